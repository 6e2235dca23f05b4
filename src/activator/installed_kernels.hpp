// The kernels a node can boot: the running one and those installed next to it (an OS update
// unpacks the next kernel before the reboot into it).
#pragma once

#include "activator/context.hpp"

#include <string>
#include <vector>

namespace ksx::activator {

// context.kernel plus every <release> under <root>/usr/lib/modules, <root>/lib/modules and
// the /usr/lib/modules of each OSTree deployment (<root>/ostree/deploy/*/deploy/*, where
// Fedora CoreOS stages the next one) whose directory holds a kernel: modules.dep, a vmlinuz
// or a kernel/ tree; a directory left behind by a removed kernel (only extra modules) does not
// count, nor a name that is not a kernel release (contract/image_name.hpp). Sorted, each
// release once.
std::vector<std::string> installed_kernels(const Context& context);

} // namespace ksx::activator

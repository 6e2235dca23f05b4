// Split builds: a modules image "<name>_<version>_<kernel>.raw" whose extension-release says
// KMOD_SYSEXT_USERSPACE=<v> is linked with the shared image "<name>-userspace_<v>.raw" from the
// same store directory, as /run/extensions/<name>-userspace.raw, checked as every image is.
#pragma once

#include "activator/context.hpp"
#include "activator/image_name.hpp"
#include "activator/log.hpp"
#include "activator/selection_marker.hpp"
#include "activator/store.hpp"
#include "activator/trust_policy.hpp"
#include "activator/verification_record.hpp"
#include "util/os_release.hpp"

#include <optional>
#include <string>
#include <vector>

namespace ksx::activator {

// The image link_first_usable chose: its links (the image first; none when no image is usable)
// and the shared image it needs, from the extension-release it read to match the OS release.
struct UsableImage {
    std::vector<SelectedLink> links;
    std::string userspace; // KMOD_SYSEXT_USERSPACE: the shared image's version; "" for none
};

// select.cpp: the links of the first of `candidates` (one extension's images, best first) that
// passes every check (verity data, signature, the node's OS release, the kernel's dm-verity
// policy), as /run/extensions/`name`.raw and its sidecars; each check recorded in `records`. A
// refused image ends the search: no fallback to an older one. Nothing when none is usable.
UsableImage link_first_usable(const Context& context, const std::string& name,
                              const std::vector<const ImageName*>& candidates,
                              const TrustPolicy& policy, const std::optional<OsIdentity>& host,
                              std::vector<VerificationRecord>& records, Log& log);

// With `chosen` the modules image of `extension`: adds the links of the shared image it needs,
// if it needs one. When that image is missing or not usable,
// one warning names the extension, the version needed and those in the store, and the modules
// image stays linked without it. Shared images of other versions are never linked.
void add_userspace_links(const Context& context, const StoredExtension& extension,
                         const TrustPolicy& policy, const std::optional<OsIdentity>& host,
                         std::vector<VerificationRecord>& records, UsableImage& chosen, Log& log);

} // namespace ksx::activator

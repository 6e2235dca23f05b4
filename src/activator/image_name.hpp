// Image file names in the store, "<name>_<version>_<kernel>.raw": the builder's own rule
// (contract/image_name.hpp), so the activator accepts only names the builder writes.
#pragma once

#include "contract/image_name.hpp"

namespace ksx::activator {

using contract::ImageName;
using contract::is_extension_name;
using contract::is_image_version;
using contract::is_kernel_release;
using contract::parse_image_name;

} // namespace ksx::activator

// The version an image carries for one kernel.
#pragma once

#include "manifest/manifest.hpp"

#include <string>

namespace ksx::manifest {

// The `image_version` of the first source that selects `release` (as the build chooses it), or
// the manifest's `version` when that source sets none or no source selects the kernel.
std::string image_version(const Manifest& manifest, const std::string& release);

} // namespace ksx::manifest

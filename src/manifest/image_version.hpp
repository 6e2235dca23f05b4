// The version an image carries for one kernel, and whether it has a shared userspace image.
#pragma once

#include "manifest/manifest.hpp"

#include <string>

namespace ksx::manifest {

// The first entry of `sources` whose `kernels:` and `targets:` select `release` on the manifest's
// current target (manifest.target_name), or null. It may be an `unsupported:` entry.
const SourceSpec* source_for(const Manifest& manifest, const std::string& release);

// The `image_version` of the first source that selects `release` (as the build chooses it), or
// the manifest's `version` when that source sets none or no source selects the kernel.
std::string image_version(const Manifest& manifest, const std::string& release);

// Whether kernel `release`'s modules image goes with a shared userspace image: `userspace:
// shared`, and `files:` or packages that select the kernel on the manifest's current target.
bool has_shared_userspace(const Manifest& manifest, const std::string& release);

} // namespace ksx::manifest

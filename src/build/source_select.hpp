// Which source, patches and packages of a manifest apply to one kernel.
#pragma once

#include "manifest/manifest.hpp"

#include <string>
#include <vector>

namespace ksx::build {

struct KernelChoice {
    const manifest::SourceSpec* source = nullptr; // null: the kernel is skipped
    std::string image_version; // the source's `image_version`, else the manifest's `version`
    std::vector<const manifest::PatchSpec*> patches;    // the source's, then the manifest's
    std::vector<const manifest::PackageSpec*> packages; // userspace packages, in order
    // Set when source is null: no entry selects the kernel, or the `unsupported:` reason of the
    // first entry that does.
    std::string skip_reason;
};

// The first source whose `kernels:` and `targets:` select `release` on the manifest's current
// target, the patches and packages that select it.
KernelChoice choose(const manifest::Manifest& manifest, const std::string& release);

} // namespace ksx::build

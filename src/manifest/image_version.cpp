#include "manifest/image_version.hpp"

#include "manifest/kernel_selector.hpp"

#include <algorithm>

namespace ksx::manifest {

const SourceSpec* source_for(const Manifest& manifest, const std::string& release) {
    for (const auto& source : manifest.sources) {
        if (selects(source.kernels, source.targets, manifest.target_name, release)) {
            return &source;
        }
    }
    return nullptr;
}

std::string image_version(const Manifest& manifest, const std::string& release) {
    const auto* source = source_for(manifest, release);
    return source == nullptr || source->image_version.empty() ? manifest.version
                                                              : source->image_version;
}

bool has_shared_userspace(const Manifest& manifest, const std::string& release) {
    return manifest.userspace == Userspace::Shared &&
           (!manifest.files.empty() ||
            std::any_of(manifest.packages.begin(), manifest.packages.end(),
                        [&](const PackageSpec& package) {
                            return selects(package.kernels, package.targets, manifest.target_name,
                                           release);
                        }));
}

} // namespace ksx::manifest

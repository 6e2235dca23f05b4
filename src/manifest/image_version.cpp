#include "manifest/image_version.hpp"

#include "manifest/kernel_selector.hpp"

namespace ksx::manifest {

std::string image_version(const Manifest& manifest, const std::string& release) {
    for (const auto& source : manifest.sources) {
        if (selects(source.kernels, release)) {
            return source.image_version.empty() ? manifest.version : source.image_version;
        }
    }
    return manifest.version;
}

} // namespace ksx::manifest

#include "build/source_select.hpp"

#include "manifest/kernel_selector.hpp"

namespace ksx::build {

KernelChoice choose(const manifest::Manifest& manifest, const std::string& release) {
    KernelChoice choice;
    for (const auto& source : manifest.sources) {
        if (manifest::selects(source.kernels, release)) {
            choice.source = &source;
            break;
        }
    }
    if (choice.source == nullptr) {
        std::string tried;
        for (const auto& source : manifest.sources) {
            tried += (tried.empty() ? "" : "; ") + source.field + ": " +
                     manifest::describe(source.kernels);
        }
        choice.skip_reason = "no source applies to this kernel (" + tried + ")";
        return choice;
    }
    for (const auto& patch : choice.source->patches) {
        if (manifest::selects(patch.kernels, release)) {
            choice.patches.push_back(&patch);
        }
    }
    for (const auto& patch : manifest.patches) {
        if (manifest::selects(patch.kernels, release)) {
            choice.patches.push_back(&patch);
        }
    }
    for (const auto& package : manifest.packages) {
        if (manifest::selects(package.kernels, release)) {
            choice.packages.push_back(&package);
        }
    }
    return choice;
}

} // namespace ksx::build

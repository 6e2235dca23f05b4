#include "build/source_select.hpp"

#include "manifest/image_version.hpp"
#include "manifest/kernel_selector.hpp"

namespace ksx::build {

KernelChoice choose(const manifest::Manifest& manifest, const std::string& release) {
    KernelChoice choice;
    const auto& target = manifest.target_name;
    choice.source = manifest::source_for(manifest, release);
    choice.image_version = manifest::image_version(manifest, release);
    if (choice.source == nullptr) {
        std::string tried;
        for (const auto& source : manifest.sources) {
            tried += (tried.empty() ? "" : "; ") + source.field + ": " +
                     manifest::describe(source.kernels, source.targets);
        }
        choice.skip_reason = "no source applies to this kernel (" + tried + ")";
        return choice;
    }
    if (choice.source->kind == manifest::SourceSpec::Kind::Unsupported) {
        choice.skip_reason = choice.source->unsupported;
        choice.source = nullptr;
        return choice;
    }
    for (const auto& patch : choice.source->patches) {
        if (manifest::selects(patch.kernels, patch.targets, target, release)) {
            choice.patches.push_back(&patch);
        }
    }
    for (const auto& patch : manifest.patches) {
        if (manifest::selects(patch.kernels, patch.targets, target, release)) {
            choice.patches.push_back(&patch);
        }
    }
    for (const auto& package : manifest.packages) {
        if (manifest::selects(package.kernels, package.targets, target, release)) {
            choice.packages.push_back(&package);
        }
    }
    return choice;
}

} // namespace ksx::build

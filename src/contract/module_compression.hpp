// How modules are stored in an image once signed: the one value the manifest's
// `image.module_compression` names, the kernel's configuration implies, the build applies and
// `build --json` reports as "none", "xz" or "zstd".
#pragma once

#include <optional>
#include <string_view>

namespace ksx::contract {

enum class ModuleCompression { None, Xz, Zstd };

inline constexpr ModuleCompression kModuleCompressions[] = {
    ModuleCompression::None, ModuleCompression::Xz, ModuleCompression::Zstd};

// "none", "xz", "zstd".
constexpr const char* to_string(ModuleCompression compression) {
    switch (compression) {
    case ModuleCompression::Xz:
        return "xz";
    case ModuleCompression::Zstd:
        return "zstd";
    case ModuleCompression::None:
        break;
    }
    return "none";
}

// The compression to_string() calls `name`, or nothing.
constexpr std::optional<ModuleCompression> module_compression_named(std::string_view name) {
    for (auto compression : kModuleCompressions) {
        if (name == to_string(compression)) {
            return compression;
        }
    }
    return std::nullopt;
}

} // namespace ksx::contract

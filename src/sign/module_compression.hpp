// Compressing signed modules (.ko.xz, .ko.zst) and reading them back. Done by the xz and
// zstd programs with the settings the kernel's own build uses.
#pragma once

#include "contract/module_compression.hpp"
#include "sign/kernel_config.hpp"

#include <filesystem>
#include <string>
#include <string_view>

namespace ksx::sign {

using contract::ModuleCompression;

// How modules are compressed when the manifest does not say, and why.
struct CompressionChoice {
    ModuleCompression compression = ModuleCompression::None;
    std::string reason; // "CONFIG_MODULE_COMPRESS_XZ=y in .../auto.conf"
    std::string note;   // something the user should know (a compression we cannot use)
};

// What the kernel's own modules use: xz for CONFIG_MODULE_COMPRESS_XZ=y, zstd for
// CONFIG_MODULE_COMPRESS_ZSTD=y, none otherwise. gzip (CONFIG_MODULE_COMPRESS_GZIP=y) gives
// none with a note: Debian 12's libkmod cannot read .ko.gz.
CompressionChoice kernel_module_compression(const KernelConfig& config);

// ".ko", ".ko.xz", ".ko.zst".
std::string module_suffix(ModuleCompression compression);

// True when `name` ends in ".ko", ".ko.xz" or ".ko.zst".
bool has_module_suffix(std::string_view name);

// Compresses `ko` next to itself (`x.ko` -> `x.ko.xz`), removes the original and returns the
// new path; the path unchanged for None. xz uses --check=crc32 --lzma2=dict=1MiB, which the
// kernel's in-kernel decompressor and kmod accept.
std::filesystem::path compress_module(const std::filesystem::path& ko,
                                      ModuleCompression compression);

// The uncompressed bytes of a module whose file name ends in `.ko`, `.ko.xz` or `.ko.zst`.
// Throws InputError when it cannot be decompressed.
std::string decompress_module(std::string_view name, std::string_view data);

} // namespace ksx::sign

// Compressing signed modules (.ko.xz, .ko.zst) and reading them back. Done by the xz and
// zstd programs with the settings the kernel's own build uses.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

namespace ksx::sign {

enum class ModuleCompression { None, Xz, Zstd };

// "none", "xz", "zstd".
const char* to_string(ModuleCompression compression);

// ".ko", ".ko.xz", ".ko.zst".
std::string module_suffix(ModuleCompression compression);

// Compresses `ko` next to itself (`x.ko` -> `x.ko.xz`), removes the original and returns the
// new path; the path unchanged for None. xz uses --check=crc32 --lzma2=dict=1MiB, which the
// kernel's in-kernel decompressor and kmod accept.
std::filesystem::path compress_module(const std::filesystem::path& ko,
                                      ModuleCompression compression);

// The uncompressed bytes of a module whose file name ends in `.ko`, `.ko.xz` or `.ko.zst`.
// Throws InputError when it cannot be decompressed.
std::string decompress_module(std::string_view name, std::string_view data);

} // namespace ksx::sign

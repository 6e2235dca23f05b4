// What the values of a manifest may look like; the parser turns a `false` into a message.
#pragma once

#include "contract/image_name.hpp"

#include <array>
#include <string>
#include <string_view>

namespace ksx::manifest::detail {

// Architectures systemd knows (ARCHITECTURE= in extension-release).
inline constexpr std::array<std::string_view, 8> architectures{
    "x86-64", "x86", "arm64", "arm", "ppc64-le", "s390x", "riscv64", "loongarch64"};

inline constexpr std::array<std::string_view, 4> debian_components{"main", "contrib", "non-free",
                                                                   "non-free-firmware"};

// The kernel's MODULE_NAME_LEN is 56 including the terminating NUL.
inline constexpr size_t max_module_name = 55;
inline constexpr size_t max_extension_name = contract::kMaxExtensionName;
inline constexpr size_t max_version = contract::kMaxImageVersion;
inline constexpr size_t max_kernel_release = contract::kMaxKernelRelease;

// The fields of an image's file name: the rules the activator applies to the names it reads.
using contract::is_extension_name; // [a-z0-9][a-z0-9-]*, at most 64
using contract::is_kernel_release; // [A-Za-z0-9._+~-]+, not "." or "..", at most 64
// A version may become an image's version: [A-Za-z0-9][A-Za-z0-9.+~-]*, at most 64.
inline bool is_version(std::string_view text) {
    return contract::is_image_version(text);
}

bool is_os_release_id(std::string_view text);    // [a-z0-9._-]+ (covers "_any")
bool is_os_release_value(std::string_view text); // [A-Za-z0-9._~-]+
bool is_debian_package(std::string_view text);   // [a-z0-9][a-z0-9+.-]+
bool is_suite(std::string_view text);            // [a-z0-9-]+
bool is_apt_option_name(std::string_view text);  // [A-Za-z0-9_.+-]+ parts joined by "::"
bool is_mirror_url(std::string_view text);       // http:// or https:// and more, no blanks
bool is_module_name(std::string_view text);      // [A-Za-z0-9_-]+

// A module name with '-' turned into '_', as the kernel compares them.
std::string module_key(std::string_view name);

// True if `text` has a byte below 0x20 or DEL.
bool has_control_char(std::string_view text);

// An absolute path without ".", ".." or empty components and without a trailing '/'.
bool is_normal_absolute(std::string_view path);

// True if `path` is `dir` or inside it (`dir` without trailing '/').
bool is_under(std::string_view path, std::string_view dir);

} // namespace ksx::manifest::detail

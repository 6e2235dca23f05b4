// Image file names and the rule for each field: one definition for the builder that writes them
// and the activator that reads them back on the node. A modules image is
// "<name>_<version>_<kernel>.raw"; the userspace image a split build shares among all kernels of
// a target is "<name>-userspace_<version>.raw" (one '_' only: no field holds '_' but the kernel).
#pragma once

#include "util/message.hpp"

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace ksx::contract {

// Bounds that keep an image's name and its longest sidecar's (".roothash.p7s") within a file
// name's 255 bytes. A kernel release is at most 64 characters (the kernel's utsname).
inline constexpr std::size_t kMaxExtensionName = 64;
inline constexpr std::size_t kMaxImageVersion = 64;
inline constexpr std::size_t kMaxKernelRelease = 64;

// An extension's name: [a-z0-9][a-z0-9-]*, at most kMaxExtensionName.
bool is_extension_name(std::string_view text);
// An image's version: [A-Za-z0-9][A-Za-z0-9.+~-]*, at most kMaxImageVersion (no '_': it
// separates the fields of an image name).
bool is_image_version(std::string_view text);
// A kernel release: [A-Za-z0-9._+~-]+, not "." or "..", at most kMaxKernelRelease (it becomes a
// directory name in the image).
bool is_kernel_release(std::string_view text);

// What a shared image's sysext name adds to its extension's name. The manifest refuses
// extension names ending in it, so "<name>-userspace" never names two things.
inline constexpr std::string_view kUserspaceSuffix = "-userspace";

struct ImageName {
    std::string extension;
    std::string version;
    std::string kernel; // empty: the shared userspace image of a split build

    bool is_userspace() const { return kernel.empty(); }
    // The name systemd-sysext sees: the link in /run/extensions without ".raw" and the suffix of
    // extension-release.<sysext_name>; "<name>" or "<name>-userspace".
    std::string sysext_name() const {
        return is_userspace() ? message("{}{}", {extension, kUserspaceSuffix}) : extension;
    }
    // "<name>_<version>_<kernel>" or "<name>-userspace_<version>": the image's file name without
    // ".raw"; sidecars share it.
    std::string stem() const {
        return is_userspace() ? message("{}_{}", {sysext_name(), version})
                              : message("{}_{}_{}", {extension, version, kernel});
    }
    std::string file_name() const { return message("{}.raw", {stem()}); }
};

// Splits "<name>_<version>_<kernel>.raw" or "<name>-userspace_<version>.raw"; nullopt unless
// each field follows its rule above (the kernel is everything after the second '_': a release
// may hold '_').
std::optional<ImageName> parse_image_name(std::string_view file_name);

} // namespace ksx::contract

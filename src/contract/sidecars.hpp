// The files beside a signed squashfs image "<stem>.raw" that systemd-sysext looks for: the
// dm-verity hash tree, its root hash (hex) and the root hash's detached PKCS#7 signature. The
// builder writes them, `verify`, `publish` and the activator read them, by these names.
#pragma once

#include <string_view>

namespace ksx::contract {

inline constexpr const char* kVeritySuffix = ".verity";
inline constexpr const char* kRootHashSuffix = ".roothash";
inline constexpr const char* kRootHashSignatureSuffix = ".roothash.p7s";
// In the order a set is written and fetched: the signature last among them, the image after.
inline constexpr const char* kSidecarSuffixes[] = {kVeritySuffix, kRootHashSuffix,
                                                   kRootHashSignatureSuffix};

// True when `file_name` ends in one of kSidecarSuffixes.
constexpr bool is_sidecar_name(std::string_view file_name) {
    for (std::string_view suffix : kSidecarSuffixes) {
        if (file_name.ends_with(suffix)) {
            return true;
        }
    }
    return false;
}

} // namespace ksx::contract

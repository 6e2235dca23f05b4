// One image of a release with its sidecars, as read back from the files (not from a build).
#pragma once

#include "sign/keys.hpp"

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace ksx::publish {

// A file published with an image: its .verity, .roothash or .roothash.p7s.
struct ReleaseFile {
    std::string file;             // file name in the release
    std::filesystem::path source; // where it is read from
    std::string sha256;
    std::uint64_t size = 0;
};

struct ReleaseImage {
    ReleaseFile image;
    std::string name;      // KMOD_SYSEXT_NAME
    std::string version;   // KMOD_SYSEXT_VERSION
    std::string kernel;    // KMOD_SYSEXT_KERNEL; empty: a split build's shared userspace image
    std::string userspace; // KMOD_SYSEXT_USERSPACE: the shared image version a modules image needs
    std::string os_id;     // ID
    std::string os_version_id;
    std::string sysext_level;
    std::string architecture;
    std::uint32_t build_time = 0;     // the squashfs mkfs time (seconds since the epoch)
    std::vector<std::string> modules; // names from modules.load, in load order
    std::string root_hash;            // from the .roothash sidecar, "" when unsigned
    std::string signer;               // the signing certificate's subject, "" when unknown
    std::vector<ReleaseFile> sidecars;
};

// Reads `path` (a "<name>_<version>_<kernel>.raw", or a shared "<name>-userspace_<version>.raw")
// and the sidecars next to it. The signer is
// taken from certificates embedded in the .roothash.p7s, else from `certs` when one of them
// verifies it. InputError when the image is not ours, its name disagrees with its
// extension-release, or its signature verifies with none of the certificates given.
ReleaseImage read_release_image(const std::filesystem::path& path,
                                const std::vector<sign::Certificate>& certs);

} // namespace ksx::publish

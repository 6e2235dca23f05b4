// Checks a dm-verity hash tree (veritysetup's format 1 with superblock) against the image data.
#pragma once

#include "util/unique_fd.hpp"

#include <filesystem>
#include <string>

namespace ksx::activator {

inline constexpr const char* kRootHashMismatch = "root hash mismatch: image or .verity changed";

struct TreeCheck {
    std::string root_hash; // lower-case hex, computed from the data; empty when problem is set
    std::string problem;   // why the tree does not describe this image; empty when it does
};

// Reads `verity` (superblock: sha256, 4096-byte blocks, hash type 1, salt as prefix), hashes
// every 4096-byte block of `image` and every hash block, and compares each level with the file,
// byte for byte (padding included). Any difference gives "root hash mismatch: image or .verity
// changed"; a superblock we do not support or that does not fit the image gives "bad .verity
// superblock: ...", including a UUID other than the one kmod-sysext derives from the salt
// (no hash covers the UUID; deriving it leaves no byte of the file unchecked).
// Throws Error when a file cannot be read.
TreeCheck check_verity_tree(const std::filesystem::path& image,
                            const std::filesystem::path& verity);

// The same on files already open for reading (names for messages).
TreeCheck check_verity_tree(const UniqueFd& image, const std::string& image_name,
                            const UniqueFd& verity, const std::string& verity_name);

} // namespace ksx::activator

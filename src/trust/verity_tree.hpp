// Computing a dm-verity hash tree (verity_format.hpp) and checking a hash file against the
// image data: what `kmod-sysext build` writes, what `kmod-sysext verify` and the activator's
// `select` check.
#pragma once

#include "trust/verity_format.hpp"

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

namespace ksx::trust {

struct VerityParams {
    Salt salt{};
    Uuid uuid{};
    unsigned threads = 1; // leaf hashing threads; the output does not depend on it
};

// A complete hash file (superblock, padding, levels) and the root hash (raw bytes).
struct VerityTree {
    std::string hash_file;
    std::string root_hash;
};

// Computes the tree of the data open at `fd` (read with pread; its size must be a non-zero
// multiple of 4096 bytes, else InputError). `name` is for messages.
VerityTree compute_verity_tree(int fd, const std::string& name, const VerityParams& params);

inline constexpr const char* kRootHashMismatch = "root hash mismatch: image or .verity changed";

struct TreeCheck {
    std::string root_hash; // lower-case hex computed from the data; empty if the superblock
                           // was refused before anything was hashed
    std::string problem;   // why the hash file does not describe the image; empty when it does
    std::optional<std::uint64_t> differs_at; // first differing byte of the hash file, if any
};

// Checks the hash file open at `verity` against the image open at `image`: the superblock as
// superblock_problem() says, then the tree computed from the data against the file, byte for
// byte (padding included); any difference gives kRootHashMismatch and its offset. Throws Error
// when a file cannot be read. Names are for messages.
TreeCheck check_verity_tree(int image, const std::string& image_name, int verity,
                            const std::string& verity_name, unsigned threads = 1);

// The same on files opened by path (Error when one cannot be opened).
TreeCheck check_verity_tree(const std::filesystem::path& image, const std::filesystem::path& verity,
                            unsigned threads = 1);

} // namespace ksx::trust

// dm-verity hash trees in veritysetup's format: hash type 1, sha256, 4096-byte data and hash
// blocks, a 512-byte superblock at the start of the hash file and the hash levels after it
// (top level first), starting at the first hash block after the superblock.
#pragma once

#include <array>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

namespace ksx::sign {

inline constexpr std::uint32_t verity_block_size = 4096;
inline constexpr size_t verity_superblock_size = 512;

using Salt = std::array<unsigned char, 32>;
using Uuid = std::array<unsigned char, 16>;

struct VerityParams {
    Salt salt{};
    Uuid uuid{};
    unsigned threads = 1; // leaf hashing threads; the output does not depend on it
};

// The salt kmod-sysext uses for an image: the SHA-256 of its content (hex in, bytes out), so a
// rebuild of the same image gives the same tree.
Salt salt_from_hex(std::string_view sha256_hex);

// A UUID derived from the salt (the first 16 bytes of SHA-256("kmod-sysext verity uuid" +
// salt)) with the version 4 and RFC 4122 variant bits set.
Uuid uuid_from_salt(const Salt& salt);

// "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx"
std::string format_uuid(const Uuid& uuid);

// Lower-case hex of bytes.
std::string to_hex(std::string_view bytes);

// The superblock fields kmod-sysext writes and checks.
struct VeritySuperblock {
    std::uint32_t version = 1;
    std::uint32_t hash_type = 1;
    Uuid uuid{};
    std::string algorithm = "sha256";
    std::uint32_t data_block_size = verity_block_size;
    std::uint32_t hash_block_size = verity_block_size;
    std::uint64_t data_blocks = 0;
    std::string salt; // raw bytes
};

// The 512 bytes of a superblock.
std::string encode_superblock(const VeritySuperblock& superblock);

// Parses a superblock; throws InputError naming what is wrong.
VeritySuperblock decode_superblock(std::string_view bytes);

// A complete hash file (superblock, padding, levels) and the root hash (raw bytes).
struct VerityTree {
    std::string hash_file;
    std::string root_hash;
};

// Computes the tree of `data` (whose size must be a multiple of 4096 bytes).
VerityTree compute_verity(const std::filesystem::path& data, const VerityParams& params);

// Computes the tree and writes it to `hash_file` atomically; returns the root hash as hex.
std::string write_verity(const std::filesystem::path& data, const std::filesystem::path& hash_file,
                         const VerityParams& params);

} // namespace ksx::sign

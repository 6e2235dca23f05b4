// dm-verity hash files in veritysetup's format as kmod-sysext writes them: hash type 1,
// sha256, 4096-byte data and hash blocks, a 512-byte superblock at the start of the hash file
// and the hash levels after it (top level first), starting at the first hash block after the
// superblock. The salt is 32 bytes and the UUID is derived from it.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace ksx::trust {

inline constexpr std::uint32_t verity_block_size = 4096;
inline constexpr std::size_t verity_superblock_size = 512;
inline constexpr std::size_t verity_digest_size = 32;

using Salt = std::array<unsigned char, 32>;
using Uuid = std::array<unsigned char, 16>;

// The salt kmod-sysext uses for an image: the SHA-256 of its content (hex in, bytes out), so a
// rebuild of the same image gives the same tree.
Salt salt_from_hex(std::string_view sha256_hex);

// A UUID derived from the salt (the first 16 bytes of SHA-256("kmod-sysext verity uuid" +
// salt)) with the version 4 and RFC 4122 variant bits set. No hash covers the superblock's
// UUID; deriving it makes it checkable like every other byte of the hash file.
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

// Why the first block of a hash file (`head`, up to 4096 bytes) is not a superblock
// kmod-sysext writes for an image of `image_size` bytes ("bad .verity superblock: ..."), or
// empty when it is: version 1, hash type 1, sha256, 4096-byte blocks, the image's block count,
// a 32-byte salt, the UUID derived from it and zero padding, so that no byte goes unchecked.
std::string superblock_problem(std::string_view head, std::uint64_t image_size);

} // namespace ksx::trust

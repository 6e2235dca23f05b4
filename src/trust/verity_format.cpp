#include "trust/verity_format.hpp"

#include "util/error.hpp"
#include "util/little_endian.hpp"

#include <algorithm>
#include <cstring>
#include <openssl/evp.h>

namespace ksx::trust {

namespace {

constexpr std::string_view signature = {"verity\0\0", 8};
constexpr std::size_t max_salt = 256;

bool all_zero(std::string_view bytes) {
    return std::all_of(bytes.begin(), bytes.end(), [](char b) { return b == 0; });
}

} // namespace

Salt salt_from_hex(std::string_view hex) {
    Salt salt{};
    auto nibble = [&](char c) -> int {
        if (c >= '0' && c <= '9') {
            return c - '0';
        }
        if (c >= 'a' && c <= 'f') {
            return c - 'a' + 10;
        }
        throw_error("\"{}\" is not a lower-case SHA-256 hex digest", {hex});
    };
    if (hex.size() != 2 * salt.size()) {
        throw_error("\"{}\" is not a lower-case SHA-256 hex digest", {hex});
    }
    for (std::size_t i = 0; i < salt.size(); ++i) {
        salt[i] = static_cast<unsigned char>(nibble(hex[2 * i]) * 16 + nibble(hex[2 * i + 1]));
    }
    return salt;
}

Uuid uuid_from_salt(const Salt& salt) {
    std::string input = "kmod-sysext verity uuid";
    input.append(reinterpret_cast<const char*>(salt.data()), salt.size());
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int size = 0;
    if (EVP_Digest(input.data(), input.size(), digest, &size, EVP_sha256(), nullptr) != 1) {
        throw_error("SHA-256 failed", {});
    }
    Uuid uuid{};
    std::memcpy(uuid.data(), digest, uuid.size());
    uuid[6] = static_cast<unsigned char>((uuid[6] & 0x0f) | 0x40);
    uuid[8] = static_cast<unsigned char>((uuid[8] & 0x3f) | 0x80);
    return uuid;
}

std::string to_hex(std::string_view bytes) {
    static constexpr char digits[] = "0123456789abcdef";
    std::string out;
    out.reserve(bytes.size() * 2);
    for (unsigned char c : bytes) {
        out += digits[c >> 4];
        out += digits[c & 15];
    }
    return out;
}

std::string format_uuid(const Uuid& uuid) {
    auto hex = to_hex(std::string_view(reinterpret_cast<const char*>(uuid.data()), uuid.size()));
    return message("{}-{}-{}-{}-{}", {hex.substr(0, 8), hex.substr(8, 4), hex.substr(12, 4),
                                      hex.substr(16, 4), hex.substr(20)});
}

// struct verity_sb of cryptsetup (lib/verity/verity.c), little-endian.
std::string encode_superblock(const VeritySuperblock& sb) {
    std::string out(verity_superblock_size, '\0');
    out.replace(0, signature.size(), signature);
    put_le(out, 8, sb.version, 4);
    put_le(out, 12, sb.hash_type, 4);
    std::memcpy(out.data() + 16, sb.uuid.data(), sb.uuid.size());
    std::memcpy(out.data() + 32, sb.algorithm.data(),
                std::min<std::size_t>(sb.algorithm.size(), 31));
    put_le(out, 64, sb.data_block_size, 4);
    put_le(out, 68, sb.hash_block_size, 4);
    put_le(out, 72, sb.data_blocks, 8);
    put_le(out, 80, sb.salt.size(), 2);
    std::memcpy(out.data() + 88, sb.salt.data(), std::min<std::size_t>(sb.salt.size(), max_salt));
    return out;
}

VeritySuperblock decode_superblock(std::string_view bytes) {
    if (bytes.size() < verity_superblock_size || bytes.substr(0, 8) != signature) {
        throw_input("no verity superblock", {});
    }
    VeritySuperblock sb;
    sb.version = static_cast<std::uint32_t>(get_le(bytes, 8, 4));
    sb.hash_type = static_cast<std::uint32_t>(get_le(bytes, 12, 4));
    std::memcpy(sb.uuid.data(), bytes.data() + 16, sb.uuid.size());
    auto algorithm = bytes.substr(32, 32);
    sb.algorithm = std::string(algorithm.substr(0, algorithm.find('\0')));
    sb.data_block_size = static_cast<std::uint32_t>(get_le(bytes, 64, 4));
    sb.hash_block_size = static_cast<std::uint32_t>(get_le(bytes, 68, 4));
    sb.data_blocks = get_le(bytes, 72, 8);
    auto salt_size = get_le(bytes, 80, 2);
    if (sb.version != 1 || sb.hash_type != 1 || sb.algorithm != "sha256" ||
        sb.data_block_size != verity_block_size || sb.hash_block_size != verity_block_size ||
        salt_size > max_salt) {
        throw_input("unsupported verity superblock (version {}, hash type {}, {}, blocks {}/{}; "
                    "expected 1, 1, sha256, 4096/4096)",
                    {std::to_string(sb.version), std::to_string(sb.hash_type), sb.algorithm,
                     std::to_string(sb.data_block_size), std::to_string(sb.hash_block_size)});
    }
    sb.salt = std::string(bytes.substr(88, salt_size));
    return sb;
}

std::string superblock_problem(std::string_view head, std::uint64_t image_size) {
    if (head.size() < verity_block_size) {
        return "bad .verity superblock: file too short";
    }
    if (head.substr(0, 8) != signature) {
        return "bad .verity superblock: no \"verity\" signature";
    }
    if (get_le(head, 8, 4) != 1) {
        return "bad .verity superblock: version is not 1";
    }
    if (get_le(head, 12, 4) != 1) {
        return "bad .verity superblock: hash type is not 1";
    }
    if (head.substr(32, 6) != "sha256" || !all_zero(head.substr(38, 26))) {
        return "bad .verity superblock: algorithm is not sha256";
    }
    if (get_le(head, 64, 4) != verity_block_size || get_le(head, 68, 4) != verity_block_size) {
        return "bad .verity superblock: block sizes are not 4096";
    }
    auto data_blocks = get_le(head, 72, 8);
    if (image_size % verity_block_size != 0) {
        return message("image size {} is not a multiple of 4096", {std::to_string(image_size)});
    }
    if (data_blocks != image_size / verity_block_size || data_blocks == 0) {
        return message(
            "bad .verity superblock: {} data blocks, the image has {}",
            {std::to_string(data_blocks), std::to_string(image_size / verity_block_size)});
    }
    auto salt_size = get_le(head, 80, 2);
    if (salt_size != Salt{}.size()) {
        return message("bad .verity superblock: salt size {}, kmod-sysext writes 32",
                       {std::to_string(salt_size)});
    }
    Salt salt{};
    std::memcpy(salt.data(), head.data() + 88, salt.size());
    auto uuid = uuid_from_salt(salt);
    if (std::memcmp(head.data() + 16, uuid.data(), uuid.size()) != 0) {
        return "bad .verity superblock: UUID is not the one kmod-sysext derives from the salt";
    }
    // Everything else in the first block is padding: zero, so that no byte goes unchecked.
    if (!all_zero(head.substr(82, 6)) ||
        !all_zero(head.substr(88 + salt_size, verity_block_size - 88 - salt_size))) {
        return "bad .verity superblock: padding is not zero";
    }
    return {};
}

} // namespace ksx::trust

#include "activator/verity_tree.hpp"

#include "util/error.hpp"
#include "util/unique_fd.hpp"
#include "util/unique_handle.hpp"

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>
#include <fcntl.h>
#include <openssl/evp.h>
#include <span>
#include <string_view>
#include <sys/mman.h>
#include <sys/stat.h>
#include <vector>

namespace ksx::activator {

namespace {

constexpr std::size_t kBlock = 4096;
constexpr std::size_t kDigest = 32;
constexpr std::size_t kPerBlock = kBlock / kDigest;
constexpr std::size_t kSuperblockSize = 512;
constexpr std::size_t kMaxSalt = 256;

// A read-only mapping of a whole file (empty files are not mapped).
class MappedFile {
public:
    // `fd` open for reading; `name` for messages.
    MappedFile(const UniqueFd& fd, const std::string& name) {
        struct stat st {};
        if (::fstat(fd.get(), &st) != 0) {
            throw_errno("cannot inspect " + name);
        }
        size_ = static_cast<std::size_t>(st.st_size);
        if (size_ == 0) {
            return;
        }
        // Populated at once: faulting the pages in one by one cost a quarter of the check's time.
        void* data = ::mmap(nullptr, size_, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd.get(), 0);
        if (data == MAP_FAILED) {
            throw_errno("cannot map " + name);
        }
        data_ = static_cast<const unsigned char*>(data);
    }
    MappedFile(const MappedFile&) = delete;
    MappedFile& operator=(const MappedFile&) = delete;
    ~MappedFile() {
        if (data_ != nullptr) {
            ::munmap(const_cast<unsigned char*>(data_), size_);
        }
    }
    std::span<const unsigned char> bytes() const { return {data_, size_}; }

private:
    const unsigned char* data_ = nullptr;
    std::size_t size_ = 0;
};

std::uint64_t little_endian(std::span<const unsigned char> bytes) {
    std::uint64_t value = 0;
    for (std::size_t i = bytes.size(); i-- > 0;) {
        value = (value << 8) | bytes[i];
    }
    return value;
}

bool all_zero(std::span<const unsigned char> bytes) {
    return std::all_of(bytes.begin(), bytes.end(), [](unsigned char b) { return b == 0; });
}

using DigestContext = UniqueHandle<EVP_MD_CTX, EVP_MD_CTX_free>;
using Digest = UniqueHandle<EVP_MD, EVP_MD_free>;

// sha256(salt || block) for many blocks. The digest is fetched once and one context reused:
// EVP_sha256() would look the implementation up again on every init, and copying a salted
// context allocates, which together cost half of the throughput.
class SaltedHash {
public:
    explicit SaltedHash(std::span<const unsigned char> salt)
        : salt_(salt), digest_(EVP_MD_fetch(nullptr, "SHA256", nullptr)),
          context_(EVP_MD_CTX_new()) {
        if (!digest_ || !context_) {
            throw Error("cannot set up sha256");
        }
    }
    void operator()(std::span<const unsigned char> block, unsigned char* out) {
        if (EVP_DigestInit_ex2(context_.get(), digest_.get(), nullptr) != 1 ||
            EVP_DigestUpdate(context_.get(), salt_.data(), salt_.size()) != 1 ||
            EVP_DigestUpdate(context_.get(), block.data(), block.size()) != 1 ||
            EVP_DigestFinal_ex(context_.get(), out, nullptr) != 1) {
            throw Error("sha256 failed");
        }
    }

private:
    std::span<const unsigned char> salt_;
    Digest digest_;
    DigestContext context_;
};

// No hash covers the superblock's UUID and nothing reads it, so a changed UUID would go
// unnoticed: kmod-sysext derives it from the salt (the first 16 bytes of
// SHA-256("kmod-sysext verity uuid" || salt), version 4 and RFC 4122 variant bits set), which
// makes it checkable like every other byte of the file.
bool uuid_derived_from_salt(std::span<const unsigned char> uuid,
                            std::span<const unsigned char> salt) {
    static constexpr std::string_view kPrefix = "kmod-sysext verity uuid";
    std::vector<unsigned char> input(kPrefix.begin(), kPrefix.end());
    input.insert(input.end(), salt.begin(), salt.end());
    std::array<unsigned char, kDigest> digest{};
    if (EVP_Digest(input.data(), input.size(), digest.data(), nullptr, EVP_sha256(), nullptr) !=
        1) {
        throw Error("sha256 failed");
    }
    digest[6] = static_cast<unsigned char>((digest[6] & 0x0f) | 0x40);
    digest[8] = static_cast<unsigned char>((digest[8] & 0x3f) | 0x80);
    return std::memcmp(uuid.data(), digest.data(), uuid.size()) == 0;
}

struct Superblock {
    std::uint64_t data_blocks = 0;
    std::span<const unsigned char> salt;
};

// The superblock's fields, or the reason it is not one we accept for this image.
std::string read_superblock(std::span<const unsigned char> verity, std::uint64_t image_size,
                            Superblock& sb) {
    if (verity.size() < kBlock) {
        return "bad .verity superblock: file too short";
    }
    auto field = [&](std::size_t at, std::size_t size) { return verity.subspan(at, size); };
    if (std::memcmp(verity.data(), "verity\0\0", 8) != 0) {
        return "bad .verity superblock: no \"verity\" signature";
    }
    if (little_endian(field(8, 4)) != 1) {
        return "bad .verity superblock: version is not 1";
    }
    if (little_endian(field(12, 4)) != 1) {
        return "bad .verity superblock: hash type is not 1";
    }
    auto algorithm = field(32, 32);
    if (std::memcmp(algorithm.data(), "sha256", 6) != 0 || !all_zero(algorithm.subspan(6))) {
        return "bad .verity superblock: algorithm is not sha256";
    }
    if (little_endian(field(64, 4)) != kBlock || little_endian(field(68, 4)) != kBlock) {
        return "bad .verity superblock: block sizes are not 4096";
    }
    sb.data_blocks = little_endian(field(72, 8));
    if (image_size % kBlock != 0) {
        return "image size " + std::to_string(image_size) + " is not a multiple of 4096";
    }
    if (sb.data_blocks != image_size / kBlock || sb.data_blocks == 0) {
        return "bad .verity superblock: " + std::to_string(sb.data_blocks) +
               " data blocks, the image has " + std::to_string(image_size / kBlock);
    }
    auto salt_size = little_endian(field(80, 2));
    if (salt_size > kMaxSalt) {
        return "bad .verity superblock: salt size " + std::to_string(salt_size);
    }
    sb.salt = field(88, salt_size);
    if (!uuid_derived_from_salt(field(16, 16), sb.salt)) {
        return "bad .verity superblock: UUID is not the one kmod-sysext derives from the salt";
    }
    // Everything else in the first block is padding: zero, so that no byte goes unchecked.
    if (!all_zero(field(82, 6)) || !all_zero(field(88 + salt_size, kMaxSalt - salt_size)) ||
        !all_zero(field(88 + kMaxSalt, kBlock - 88 - kMaxSalt))) {
        return "bad .verity superblock: padding is not zero";
    }
    return {};
}

} // namespace

TreeCheck check_verity_tree(const std::filesystem::path& image,
                            const std::filesystem::path& verity) {
    auto open = [](const std::filesystem::path& path) {
        UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
        if (!fd) {
            throw_errno("cannot open " + path.string());
        }
        return fd;
    };
    return check_verity_tree(open(image), image.string(), open(verity), verity.string());
}

TreeCheck check_verity_tree(const UniqueFd& image, const std::string& image_name,
                            const UniqueFd& verity, const std::string& verity_name) {
    MappedFile verity_file(verity, verity_name);
    MappedFile image_file(image, image_name);
    auto tree = verity_file.bytes();
    auto data = image_file.bytes();
    Superblock sb;
    if (auto problem = read_superblock(tree, data.size(), sb); !problem.empty()) {
        return {{}, problem};
    }
    // Level sizes as veritysetup lays them out: the top level first, the leaves last.
    std::vector<std::uint64_t> level_blocks;
    for (std::uint64_t count = sb.data_blocks; count > 1;) {
        count = (count + kPerBlock - 1) / kPerBlock;
        level_blocks.push_back(count);
    }
    std::uint64_t total = 1;
    for (auto blocks : level_blocks) {
        total += blocks;
    }
    if (tree.size() != total * kBlock) {
        return {{}, kRootHashMismatch};
    }
    SaltedHash hash(sb.salt);
    // Digests of the level below, starting with the data blocks.
    std::vector<unsigned char> digests(sb.data_blocks * kDigest);
    for (std::uint64_t i = 0; i < sb.data_blocks; ++i) {
        hash(data.subspan(i * kBlock, kBlock), digests.data() + i * kDigest);
    }
    std::uint64_t offset = tree.size();
    for (auto blocks : level_blocks) {
        offset -= blocks * kBlock;
        auto level = tree.subspan(offset, blocks * kBlock);
        // The stored level is the digests below it, zero-padded to whole blocks.
        if (std::memcmp(level.data(), digests.data(), digests.size()) != 0 ||
            !all_zero(level.subspan(digests.size()))) {
            return {{}, kRootHashMismatch};
        }
        digests.assign(blocks * kDigest, 0);
        for (std::uint64_t i = 0; i < blocks; ++i) {
            hash(level.subspan(i * kBlock, kBlock), digests.data() + i * kDigest);
        }
    }
    static constexpr char kHex[] = "0123456789abcdef";
    std::string root;
    for (std::size_t i = 0; i < kDigest; ++i) {
        root += kHex[digests[i] >> 4];
        root += kHex[digests[i] & 15];
    }
    return {root, {}};
}

} // namespace ksx::activator

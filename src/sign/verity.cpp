#include "sign/verity.hpp"

#include "sign/little_endian.hpp"
#include "sign/openssl_handles.hpp"
#include "util/atomic_file.hpp"
#include "util/error.hpp"
#include "util/unique_fd.hpp"

#include <algorithm>
#include <cstring>
#include <exception>
#include <fcntl.h>
#include <mutex>
#include <sys/stat.h>
#include <thread>
#include <unistd.h>
#include <vector>

namespace ksx::sign {

namespace fs = std::filesystem;

namespace {

constexpr size_t digest_size = 32;
constexpr size_t hashes_per_block = verity_block_size / digest_size; // 128
constexpr std::string_view signature = {"verity\0\0", 8};

// SHA-256(salt || block) with a reused context: the per-block cost of hash type 1.
class SaltedHasher {
public:
    explicit SaltedHasher(const Salt& salt) : salt_(salt), ctx_(EVP_MD_CTX_new()) {
        md_.reset(EVP_MD_fetch(nullptr, "SHA256", nullptr));
        if (!ctx_ || !md_) {
            throw_openssl("failed to set up SHA-256");
        }
    }
    void hash(const unsigned char* block, unsigned char* out) {
        unsigned int size = 0;
        if (EVP_DigestInit_ex(ctx_.get(), md_.get(), nullptr) != 1 ||
            EVP_DigestUpdate(ctx_.get(), salt_.data(), salt_.size()) != 1 ||
            EVP_DigestUpdate(ctx_.get(), block, verity_block_size) != 1 ||
            EVP_DigestFinal_ex(ctx_.get(), out, &size) != 1) {
            throw_openssl("SHA-256 failed");
        }
    }

private:
    Salt salt_;
    DigestContext ctx_;
    Digest md_;
};

// Hashes data blocks [first, last) of `fd` into `out` (32 bytes per block).
void hash_leaves(int fd, const fs::path& path, std::uint64_t first, std::uint64_t last,
                 const Salt& salt, unsigned char* out) {
    constexpr size_t chunk_blocks = 256; // 1 MiB reads
    std::vector<unsigned char> buffer(chunk_blocks * verity_block_size);
    SaltedHasher hasher(salt);
    for (std::uint64_t block = first; block < last;) {
        size_t count = static_cast<size_t>(std::min<std::uint64_t>(chunk_blocks, last - block));
        size_t want = count * verity_block_size;
        size_t got = 0;
        while (got < want) {
            auto offset = static_cast<off_t>(block * verity_block_size + got);
            ssize_t n = ::pread(fd, buffer.data() + got, want - got, offset);
            if (n < 0) {
                if (errno == EINTR) {
                    continue;
                }
                throw_errno("failed to read " + path.string());
            }
            if (n == 0) {
                throw Error(path.string() + " shrank while its hash tree was computed");
            }
            got += static_cast<size_t>(n);
        }
        for (size_t i = 0; i < count; ++i) {
            hasher.hash(buffer.data() + i * verity_block_size,
                        out + (block - first + i) * digest_size);
        }
        block += count;
    }
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
        throw Error("\"" + std::string(hex) + "\" is not a lower-case SHA-256 hex digest");
    };
    if (hex.size() != 2 * salt.size()) {
        throw Error("\"" + std::string(hex) + "\" is not a lower-case SHA-256 hex digest");
    }
    for (size_t i = 0; i < salt.size(); ++i) {
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
        throw_openssl("SHA-256 failed");
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
    return hex.substr(0, 8) + "-" + hex.substr(8, 4) + "-" + hex.substr(12, 4) + "-" +
           hex.substr(16, 4) + "-" + hex.substr(20);
}

// struct verity_sb of cryptsetup (lib/verity/verity.c), little-endian.
std::string encode_superblock(const VeritySuperblock& sb) {
    std::string out(verity_superblock_size, '\0');
    out.replace(0, signature.size(), signature);
    put_le(out, 8, sb.version, 4);
    put_le(out, 12, sb.hash_type, 4);
    std::memcpy(out.data() + 16, sb.uuid.data(), sb.uuid.size());
    std::memcpy(out.data() + 32, sb.algorithm.data(), std::min<size_t>(sb.algorithm.size(), 31));
    put_le(out, 64, sb.data_block_size, 4);
    put_le(out, 68, sb.hash_block_size, 4);
    put_le(out, 72, sb.data_blocks, 8);
    put_le(out, 80, sb.salt.size(), 2);
    std::memcpy(out.data() + 88, sb.salt.data(), std::min<size_t>(sb.salt.size(), 256));
    return out;
}

VeritySuperblock decode_superblock(std::string_view bytes) {
    if (bytes.size() < verity_superblock_size || bytes.substr(0, 8) != signature) {
        throw InputError("no verity superblock");
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
        salt_size > 256) {
        throw InputError("unsupported verity superblock (version " + std::to_string(sb.version) +
                         ", hash type " + std::to_string(sb.hash_type) + ", " + sb.algorithm +
                         ", blocks " + std::to_string(sb.data_block_size) + "/" +
                         std::to_string(sb.hash_block_size) + "; expected 1, 1, sha256, " +
                         "4096/4096)");
    }
    sb.salt = std::string(bytes.substr(88, salt_size));
    return sb;
}

VerityTree compute_verity(const fs::path& data, const VerityParams& params) {
    UniqueFd fd(::open(data.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd) {
        throw_errno("failed to open " + data.string());
    }
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0) {
        throw_errno("failed to stat " + data.string());
    }
    auto size = static_cast<std::uint64_t>(st.st_size);
    if (size == 0 || size % verity_block_size != 0) {
        throw InputError(data.string() + ": size " + std::to_string(size) +
                         " is not a non-zero multiple of 4096 bytes");
    }
    const std::uint64_t blocks = size / verity_block_size;
#ifdef POSIX_FADV_SEQUENTIAL
    ::posix_fadvise(fd.get(), 0, 0, POSIX_FADV_SEQUENTIAL);
#endif

    // Level 0: one digest per data block, hashed by several threads over contiguous ranges.
    std::vector<unsigned char> leaves(blocks * digest_size);
    unsigned threads = static_cast<unsigned>(
        std::clamp<std::uint64_t>(params.threads, 1, std::max<std::uint64_t>(blocks / 256, 1)));
    std::vector<std::exception_ptr> errors(threads);
    {
        std::vector<std::jthread> workers;
        auto run = [&](unsigned t) {
            std::uint64_t first = blocks * t / threads;
            std::uint64_t last = blocks * (t + 1) / threads;
            try {
                hash_leaves(fd.get(), data, first, last, params.salt,
                            leaves.data() + first * digest_size);
            } catch (...) {
                errors[t] = std::current_exception();
            }
        };
        for (unsigned t = 1; t < threads; ++t) {
            workers.emplace_back(run, t);
        }
        run(0);
    }
    for (const auto& error : errors) {
        if (error) {
            std::rethrow_exception(error);
        }
    }

    // Upper levels: each level's zero-padded blocks hashed into the next, up to one block.
    std::vector<std::vector<unsigned char>> levels; // levels[0] hashes the data
    SaltedHasher hasher(params.salt);
    std::vector<unsigned char> current = std::move(leaves);
    std::uint64_t count = blocks; // digests in `current`
    std::string root(digest_size, '\0');
    auto* root_bytes = reinterpret_cast<unsigned char*>(root.data());
    if (blocks == 1) {
        // No hash level: the root is the hash of the only data block.
        std::memcpy(root_bytes, current.data(), digest_size);
    } else {
        while (true) {
            std::uint64_t level_blocks = (count + hashes_per_block - 1) / hashes_per_block;
            current.resize(level_blocks * verity_block_size, 0);
            std::vector<unsigned char> next(level_blocks * digest_size);
            for (std::uint64_t b = 0; b < level_blocks; ++b) {
                hasher.hash(current.data() + b * verity_block_size, next.data() + b * digest_size);
            }
            levels.push_back(std::move(current));
            if (level_blocks == 1) {
                std::memcpy(root_bytes, next.data(), digest_size);
                break;
            }
            current = std::move(next);
            count = level_blocks;
        }
    }

    VeritySuperblock sb;
    sb.uuid = params.uuid;
    sb.data_blocks = blocks;
    sb.salt.assign(reinterpret_cast<const char*>(params.salt.data()), params.salt.size());
    VerityTree tree;
    tree.hash_file = encode_superblock(sb);
    // The hash area starts at the first hash block after the superblock, even when it is empty.
    tree.hash_file.resize(verity_block_size, '\0');
    for (auto level = levels.rbegin(); level != levels.rend(); ++level) {
        tree.hash_file.append(reinterpret_cast<const char*>(level->data()), level->size());
    }
    tree.root_hash = std::move(root);
    return tree;
}

std::string write_verity(const fs::path& data, const fs::path& hash_file,
                         const VerityParams& params) {
    auto tree = compute_verity(data, params);
    write_file_atomic(hash_file, tree.hash_file);
    return to_hex(tree.root_hash);
}

} // namespace ksx::sign

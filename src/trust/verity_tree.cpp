#include "trust/verity_tree.hpp"

#include "util/error.hpp"
#include "util/unique_fd.hpp"
#include "util/unique_handle.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <exception>
#include <fcntl.h>
#include <openssl/evp.h>
#include <sys/stat.h>
#include <thread>
#include <unistd.h>
#include <vector>

namespace ksx::trust {

namespace {

constexpr std::size_t digest_size = verity_digest_size;
constexpr std::size_t hashes_per_block = verity_block_size / digest_size; // 128

using DigestContext = UniqueHandle<EVP_MD_CTX, EVP_MD_CTX_free>;
using Digest = UniqueHandle<EVP_MD, EVP_MD_free>;

// SHA-256(salt || block) with the digest fetched once and one context reused: EVP_sha256()
// would look the implementation up again on every init, which costs much of the throughput.
class SaltedHasher {
public:
    explicit SaltedHasher(const Salt& salt)
        : salt_(salt), ctx_(EVP_MD_CTX_new()), md_(EVP_MD_fetch(nullptr, "SHA256", nullptr)) {
        if (!ctx_ || !md_) {
            throw_error("cannot set up SHA-256", {});
        }
    }
    void hash(const unsigned char* block, unsigned char* out) {
        if (EVP_DigestInit_ex2(ctx_.get(), md_.get(), nullptr) != 1 ||
            EVP_DigestUpdate(ctx_.get(), salt_.data(), salt_.size()) != 1 ||
            EVP_DigestUpdate(ctx_.get(), block, verity_block_size) != 1 ||
            EVP_DigestFinal_ex(ctx_.get(), out, nullptr) != 1) {
            throw_error("SHA-256 failed", {});
        }
    }

private:
    Salt salt_;
    DigestContext ctx_;
    Digest md_;
};

// Reads up to `size` bytes at `offset`; fewer only at the end of the file.
std::size_t read_at(int fd, const std::string& name, unsigned char* out, std::size_t size,
                    std::uint64_t offset) {
    std::size_t got = 0;
    while (got < size) {
        ssize_t n = ::pread(fd, out + got, size - got, static_cast<off_t>(offset + got));
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0) {
            throw_errno("cannot read {}", {name});
        }
        if (n == 0) {
            break;
        }
        got += static_cast<std::size_t>(n);
    }
    return got;
}

std::uint64_t file_size(int fd, const std::string& name) {
    struct stat st {};
    if (::fstat(fd, &st) != 0) {
        throw_errno("cannot inspect {}", {name});
    }
    return static_cast<std::uint64_t>(st.st_size);
}

// Hashes data blocks [first, last) of `fd` into `out` (32 bytes per block).
void hash_leaves(int fd, const std::string& name, std::uint64_t first, std::uint64_t last,
                 const Salt& salt, unsigned char* out) {
    constexpr std::size_t chunk_blocks = 256; // 1 MiB reads
    std::vector<unsigned char> buffer(chunk_blocks * verity_block_size);
    SaltedHasher hasher(salt);
    for (std::uint64_t block = first; block < last;) {
        auto count = static_cast<std::size_t>(std::min<std::uint64_t>(chunk_blocks, last - block));
        std::size_t want = count * verity_block_size;
        if (read_at(fd, name, buffer.data(), want, block * verity_block_size) != want) {
            throw_error("{} shrank while its hash tree was computed", {name});
        }
        for (std::size_t i = 0; i < count; ++i) {
            hasher.hash(buffer.data() + i * verity_block_size,
                        out + (block - first + i) * digest_size);
        }
        block += count;
    }
}

// Level 0: one digest per data block, hashed by several threads over contiguous ranges.
std::vector<unsigned char> leaves_of(int fd, const std::string& name, std::uint64_t blocks,
                                     const VerityParams& params) {
    std::vector<unsigned char> leaves(blocks * digest_size);
    auto threads = static_cast<unsigned>(
        std::clamp<std::uint64_t>(params.threads, 1, std::max<std::uint64_t>(blocks / 256, 1)));
    std::vector<std::exception_ptr> errors(threads);
    auto run = [&](unsigned t) {
        std::uint64_t first = blocks * t / threads;
        std::uint64_t last = blocks * (t + 1) / threads;
        try {
            hash_leaves(fd, name, first, last, params.salt, leaves.data() + first * digest_size);
        } catch (...) {
            errors[t] = std::current_exception();
        }
    };
    {
        std::vector<std::jthread> workers;
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
    return leaves;
}

std::string first_block(int fd, const std::string& name) {
    std::string head(verity_block_size, '\0');
    head.resize(read_at(fd, name, reinterpret_cast<unsigned char*>(head.data()), head.size(), 0));
    return head;
}

} // namespace

VerityTree compute_verity_tree(int fd, const std::string& name, const VerityParams& params) {
    auto size = file_size(fd, name);
    if (size == 0 || size % verity_block_size != 0) {
        throw_input("{}: size {} is not a non-zero multiple of 4096 bytes",
                    {name, std::to_string(size)});
    }
    const std::uint64_t blocks = size / verity_block_size;
#ifdef POSIX_FADV_SEQUENTIAL
    ::posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
#endif
    std::vector<unsigned char> current = leaves_of(fd, name, blocks, params);

    // Upper levels: each level's zero-padded blocks hashed into the next, up to one block.
    std::vector<std::vector<unsigned char>> levels; // levels[0] hashes the data
    SaltedHasher hasher(params.salt);
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

TreeCheck check_verity_tree(int image, const std::string& image_name, int verity,
                            const std::string& verity_name, unsigned threads) {
    auto stored = first_block(verity, verity_name);
    if (auto problem = superblock_problem(stored, file_size(image, image_name)); !problem.empty()) {
        return {{}, problem, {}};
    }
    VerityParams params;
    std::memcpy(params.salt.data(), stored.data() + 88, params.salt.size());
    params.uuid = uuid_from_salt(params.salt);
    params.threads = threads;
    auto tree = compute_verity_tree(image, image_name, params);
    TreeCheck check{to_hex(tree.root_hash), {}, {}};
    // The rest of the file, and one byte more to notice a longer one.
    auto want = tree.hash_file.size() + 1;
    stored.resize(want);
    auto got = read_at(verity, verity_name,
                       reinterpret_cast<unsigned char*>(stored.data()) + verity_block_size,
                       want - verity_block_size, verity_block_size);
    stored.resize(verity_block_size + got);
    if (stored != tree.hash_file) {
        auto mismatch = std::mismatch(stored.begin(), stored.end(), tree.hash_file.begin(),
                                      tree.hash_file.end());
        check.problem = kRootHashMismatch;
        check.differs_at = static_cast<std::uint64_t>(mismatch.first - stored.begin());
    }
    return check;
}

TreeCheck check_verity_tree(const std::filesystem::path& image, const std::filesystem::path& verity,
                            unsigned threads) {
    auto open = [](const std::filesystem::path& path) {
        UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
        if (!fd) {
            throw_errno("cannot open {}", {path.native()});
        }
        return fd;
    };
    return check_verity_tree(open(image).get(), image.string(), open(verity).get(), verity.string(),
                             threads);
}

} // namespace ksx::trust

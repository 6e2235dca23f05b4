#include "activator/squashfs_file.hpp"

#include "util/error.hpp"
#include "util/unique_fd.hpp"

#include <cstdint>
#include <cstring>
#include <fcntl.h>
#include <lzma.h>
#include <sys/stat.h>
#include <vector>
#include <zlib.h>
#include <zstd.h>

namespace ksx::activator {

namespace {

// Squashfs 4.0 (squashfs-tools' squashfs_fs.h), all little-endian.
constexpr std::uint32_t kMagic = 0x73717368;
constexpr std::size_t kSuperblockSize = 96;
constexpr std::size_t kMetadataSize = 8192;
constexpr std::uint16_t kGzip = 1, kXz = 4, kZstd = 6;
constexpr std::uint16_t kBasicDir = 1, kBasicFile = 2, kExtendedDir = 8, kExtendedFile = 9;
constexpr std::uint32_t kUncompressedBlock = 1u << 24;
constexpr std::uint32_t kNoFragment = 0xffffffff;
constexpr int kMaxDepth = 32;

std::uint64_t little(const unsigned char* p, int bytes) {
    std::uint64_t value = 0;
    for (int i = bytes - 1; i >= 0; --i) {
        value = value << 8 | p[i];
    }
    return value;
}

class Reader {
public:
    explicit Reader(const std::filesystem::path& image) : image_(image) {
        fd_ = UniqueFd(::open(image.c_str(), O_RDONLY | O_CLOEXEC));
        if (!fd_) {
            throw_errno("cannot open {}", {image.native()});
        }
        struct stat st {};
        if (::fstat(fd_.get(), &st) != 0) {
            throw_errno("cannot stat {}", {image.native()});
        }
        size_ = static_cast<std::uint64_t>(st.st_size);
        auto super = read_at(0, kSuperblockSize);
        const auto* s = reinterpret_cast<const unsigned char*>(super.data());
        if (little(s, 4) != kMagic || little(s + 28, 2) != 4 || little(s + 30, 2) != 0) {
            fail("not a squashfs 4.0 image");
        }
        block_size_ = static_cast<std::uint32_t>(little(s + 12, 4));
        fragment_count_ = static_cast<std::uint32_t>(little(s + 16, 4));
        compression_ = static_cast<std::uint16_t>(little(s + 20, 2));
        if (compression_ != kGzip && compression_ != kXz && compression_ != kZstd) {
            fail(message("compression {} is not gzip, xz or zstd", {std::to_string(compression_)}));
        }
        if (block_size_ < 4096 || block_size_ > (1u << 20)) {
            fail("bad block size");
        }
        root_inode_ = little(s + 32, 8);
        inode_table_ = little(s + 64, 8);
        directory_table_ = little(s + 72, 8);
        fragment_table_ = little(s + 80, 8);
    }

    std::optional<std::string> file(std::string_view path, std::size_t max_size) {
        auto inode = root_inode_;
        std::size_t depth = 0;
        while (!path.empty()) {
            auto slash = path.find('/');
            auto name = path.substr(0, slash);
            path = slash == std::string_view::npos ? std::string_view() : path.substr(slash + 1);
            if (name.empty()) {
                continue;
            }
            if (++depth > kMaxDepth) {
                fail("path too deep");
            }
            auto child = lookup(inode, name);
            if (!child) {
                return std::nullopt;
            }
            inode = *child;
        }
        return contents(inode, max_size);
    }

private:
    [[noreturn]] void fail(std::string_view what) const {
        throw_error("{}: {}", {image_.native(), what});
    }

    std::string read_at(std::uint64_t offset, std::uint64_t length) const {
        if (offset > size_ || length > size_ - offset) {
            fail("reference beyond the end of the image");
        }
        std::string out(length, '\0');
        std::size_t done = 0;
        while (done < length) {
            auto got = ::pread(fd_.get(), out.data() + done, length - done,
                               static_cast<off_t>(offset + done));
            if (got <= 0) {
                fail(message("cannot read {} bytes at {}",
                             {std::to_string(length), std::to_string(offset)}));
            }
            done += static_cast<std::size_t>(got);
        }
        return out;
    }

    std::string decompress(const std::string& in, std::size_t limit) const {
        std::string out(limit, '\0');
        std::size_t produced = 0;
        if (compression_ == kZstd) {
            auto n = ZSTD_decompress(out.data(), limit, in.data(), in.size());
            if (ZSTD_isError(n)) {
                fail(message("zstd: {}", {ZSTD_getErrorName(n)}));
            }
            produced = n;
        } else if (compression_ == kXz) {
            std::uint64_t memlimit = 64u << 20;
            std::size_t in_pos = 0;
            auto ret = lzma_stream_buffer_decode(
                &memlimit, 0, nullptr, reinterpret_cast<const std::uint8_t*>(in.data()), &in_pos,
                in.size(), reinterpret_cast<std::uint8_t*>(out.data()), &produced, limit);
            if (ret != LZMA_OK) {
                fail(message("xz: cannot decompress a block ({})", {std::to_string(ret)}));
            }
        } else {
            uLongf length = limit;
            if (::uncompress(reinterpret_cast<Bytef*>(out.data()), &length,
                             reinterpret_cast<const Bytef*>(in.data()),
                             static_cast<uLong>(in.size())) != Z_OK) {
                fail("gzip: cannot decompress a block");
            }
            produced = length;
        }
        out.resize(produced);
        return out;
    }

    // One metadata block at `at`: its contents, and where the next one starts.
    std::pair<std::string, std::uint64_t> metadata_block(std::uint64_t at) const {
        auto header = read_at(at, 2);
        auto word = static_cast<std::uint16_t>(
            little(reinterpret_cast<const unsigned char*>(header.data()), 2));
        std::uint32_t length = word & 0x7fff;
        if (length == 0 || length > kMetadataSize) {
            fail(message("bad metadata block at {}", {std::to_string(at)}));
        }
        auto data = read_at(at + 2, length);
        if ((word & 0x8000) == 0) {
            data = decompress(data, kMetadataSize);
        }
        return {data, at + 2 + length};
    }

    // `length` bytes of the metadata table at `table`, from block `block` (relative) and
    // `offset` in it, across blocks.
    std::string metadata(std::uint64_t table, std::uint64_t block, std::size_t offset,
                         std::size_t length) const {
        std::string out;
        auto at = table + block;
        while (out.size() < length) {
            auto [data, next] = metadata_block(at);
            if (offset > data.size()) {
                fail("metadata offset beyond its block");
            }
            out.append(data, offset, length - out.size());
            offset = 0;
            at = next;
        }
        return out;
    }

    struct Inode {
        std::uint16_t type = 0;
        // Directories:
        std::uint64_t dir_block = 0;
        std::size_t dir_offset = 0;
        std::size_t dir_size = 0;
        // Files:
        std::uint64_t blocks_start = 0;
        std::uint64_t file_size = 0;
        std::uint32_t fragment = kNoFragment;
        std::uint32_t fragment_offset = 0;
        std::vector<std::uint32_t> block_sizes;
    };

    Inode inode(std::uint64_t reference) const {
        auto block = reference >> 16;
        auto offset = static_cast<std::size_t>(reference & 0xffff);
        auto header = metadata(inode_table_, block, offset, 16);
        Inode out;
        out.type = static_cast<std::uint16_t>(
            little(reinterpret_cast<const unsigned char*>(header.data()), 2));
        // The common header (16 bytes), then the type's fixed part.
        std::size_t part = out.type == kBasicDir       ? 16
                           : out.type == kExtendedDir  ? 24
                           : out.type == kBasicFile    ? 16
                           : out.type == kExtendedFile ? 40
                                                       : 0;
        if (part == 0) {
            return out; // not a directory or regular file
        }
        auto head = metadata(inode_table_, block, offset, 16 + part);
        const auto* p = reinterpret_cast<const unsigned char*>(head.data()) + 16;
        std::size_t fixed = 0;
        switch (out.type) {
        case kBasicDir:
            out.dir_block = little(p, 4);
            out.dir_size = little(p + 8, 2);
            out.dir_offset = little(p + 10, 2);
            return out;
        case kExtendedDir:
            out.dir_size = little(p + 4, 4);
            out.dir_block = little(p + 8, 4);
            out.dir_offset = little(p + 18, 2);
            return out;
        case kBasicFile:
            out.blocks_start = little(p, 4);
            out.fragment = static_cast<std::uint32_t>(little(p + 4, 4));
            out.fragment_offset = static_cast<std::uint32_t>(little(p + 8, 4));
            out.file_size = little(p + 12, 4);
            fixed = 16 + 16;
            break;
        case kExtendedFile:
            out.blocks_start = little(p, 8);
            out.file_size = little(p + 8, 8);
            out.fragment = static_cast<std::uint32_t>(little(p + 28, 4));
            out.fragment_offset = static_cast<std::uint32_t>(little(p + 32, 4));
            fixed = 16 + 40;
            break;
        default:
            return out; // not a directory or regular file
        }
        auto blocks = out.file_size / block_size_;
        if (out.fragment == kNoFragment && out.file_size % block_size_ != 0) {
            ++blocks;
        }
        if (blocks > 1024) {
            fail("file too large");
        }
        auto all = metadata(inode_table_, block, offset, fixed + blocks * 4);
        for (std::size_t i = 0; i < blocks; ++i) {
            out.block_sizes.push_back(static_cast<std::uint32_t>(
                little(reinterpret_cast<const unsigned char*>(all.data()) + fixed + i * 4, 4)));
        }
        return out;
    }

    std::optional<std::uint64_t> lookup(std::uint64_t directory, std::string_view name) const {
        auto dir = inode(directory);
        if (dir.type != kBasicDir && dir.type != kExtendedDir) {
            return std::nullopt; // a path through a file
        }
        if (dir.dir_size <= 3) {
            return std::nullopt; // empty: the size counts "." and ".." as 3 bytes
        }
        auto listing = metadata(directory_table_, dir.dir_block, dir.dir_offset, dir.dir_size - 3);
        const auto* p = reinterpret_cast<const unsigned char*>(listing.data());
        std::size_t at = 0;
        auto need = [&](std::size_t bytes) {
            if (bytes > listing.size() - at) {
                fail("directory listing cut short");
            }
        };
        while (at < listing.size()) {
            need(12);
            auto count = little(p + at, 4) + 1;
            auto start = little(p + at + 4, 4);
            at += 12;
            if (count > 256) {
                fail("bad directory header");
            }
            for (std::uint64_t i = 0; i < count; ++i) {
                need(8);
                auto offset = little(p + at, 2);
                auto name_size = little(p + at + 6, 2) + 1;
                at += 8;
                need(name_size);
                std::string_view entry(listing.data() + at, name_size);
                at += name_size;
                if (entry == name) {
                    return start << 16 | offset;
                }
            }
        }
        return std::nullopt;
    }

    std::string block(std::uint64_t at, std::uint32_t word) const {
        auto length = word & ~kUncompressedBlock;
        if (length == 0) {
            return std::string(block_size_, '\0'); // a sparse block
        }
        if (length > block_size_) {
            fail("bad data block size");
        }
        auto data = read_at(at, length);
        return (word & kUncompressedBlock) != 0 ? data : decompress(data, block_size_);
    }

    std::optional<std::string> contents(std::uint64_t reference, std::size_t max_size) const {
        auto file = inode(reference);
        if (file.type != kBasicFile && file.type != kExtendedFile) {
            return std::nullopt;
        }
        if (file.file_size > max_size) {
            fail(message("the file is larger than {} bytes", {std::to_string(max_size)}));
        }
        std::string out;
        auto at = file.blocks_start;
        for (auto word : file.block_sizes) {
            out += block(at, word);
            at += word & ~kUncompressedBlock;
        }
        if (file.fragment != kNoFragment) {
            if (file.fragment >= fragment_count_) {
                fail("bad fragment index");
            }
            // The fragment table: u64 locations of metadata blocks of 16-byte entries.
            auto lookup = read_at(fragment_table_ + (file.fragment / 512) * 8, 8);
            auto entry_block = little(reinterpret_cast<const unsigned char*>(lookup.data()), 8);
            auto entry = metadata(entry_block, 0, (file.fragment % 512) * 16, 16);
            const auto* e = reinterpret_cast<const unsigned char*>(entry.data());
            auto data = block(little(e, 8), static_cast<std::uint32_t>(little(e + 8, 4)));
            auto tail = file.file_size - out.size();
            if (file.fragment_offset > data.size() || tail > data.size() - file.fragment_offset) {
                fail("fragment reference beyond its block");
            }
            out.append(data, file.fragment_offset, tail);
        }
        if (out.size() < file.file_size) {
            fail("file data cut short");
        }
        out.resize(file.file_size);
        return out;
    }

    std::filesystem::path image_;
    UniqueFd fd_;
    std::uint64_t size_ = 0;
    std::uint32_t block_size_ = 0;
    std::uint32_t fragment_count_ = 0;
    std::uint16_t compression_ = 0;
    std::uint64_t root_inode_ = 0;
    std::uint64_t inode_table_ = 0;
    std::uint64_t directory_table_ = 0;
    std::uint64_t fragment_table_ = 0;
};

} // namespace

std::optional<std::string> read_squashfs_file(const std::filesystem::path& image,
                                              std::string_view path, std::size_t max_size) {
    return Reader(image).file(path, max_size);
}

} // namespace ksx::activator

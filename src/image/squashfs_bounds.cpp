// inode_payload: the sizes in an inode's fixed fields, read with libsquashfs's own metadata
// reader and on-disk structures in the order sqfs_meta_reader_read_inode reads them;
// fragment_table_problem: the superblock's fragment count. Each is checked against the size on
// disk of the table that must hold what it counts.
#include "image/squashfs_bounds.hpp"

#include <algorithm>
#include <array>
#include <endian.h>
#include <sqfs/block.h>
#include <sqfs/dir.h>
#include <sqfs/inode.h>
#include <sqfs/meta_reader.h>
#include <sqfs/super.h>

namespace ksx::image {

namespace {

constexpr std::uint32_t no_fragment = 0xFFFFFFFF;

// The most uncompressed bytes that the metadata blocks from `block` up to `limit` can hold:
// a block is a 2-byte header and at least one byte of data, and holds at most 8 KiB.
std::uint64_t capacity(std::uint64_t block, std::uint64_t limit) {
    return block < limit ? (limit - block) / 3 * SQFS_META_BLOCK_SIZE : 0;
}

// libsquashfs's count: a block for each full block_size of the file, and one for a tail that
// is not in a fragment.
std::uint64_t block_count(std::uint64_t size, std::uint32_t block_size, std::uint32_t fragment,
                          std::uint32_t fragment_offset) {
    std::uint64_t count = size / block_size;
    bool tail_in_fragment = fragment != no_fragment && fragment_offset != no_fragment;
    if (size % block_size != 0 && !tail_in_fragment) {
        ++count;
    }
    return count;
}

template <typename T> int read(sqfs_meta_reader_t* reader, T& out) {
    return sqfs_meta_reader_read(reader, &out, sizeof(T));
}

// Reads past `bytes` of the table (the names of an extended directory's index).
int skip(sqfs_meta_reader_t* reader, std::uint64_t bytes) {
    std::array<char, 4096> scratch{};
    while (bytes > 0) {
        auto chunk = std::min<std::uint64_t>(bytes, scratch.size());
        if (int error = sqfs_meta_reader_read(reader, scratch.data(), chunk)) {
            return error;
        }
        bytes -= chunk;
    }
    return 0;
}

} // namespace

InodePayload inode_payload(sqfs_meta_reader_t* inodes, const sqfs_super_t& super, sqfs_u64 ref) {
    InodePayload out;
    std::uint64_t block = super.inode_table_start + (ref >> 16);
    const std::uint64_t room = capacity(block, super.directory_table_start);
    auto claims = [&](const std::string& what, std::uint64_t bytes) {
        if (bytes > room) {
            out.problem = what + " needs " + std::to_string(bytes) +
                          " bytes of the inode table, which can hold at most " +
                          std::to_string(room);
            return false;
        }
        out.bytes = bytes;
        return true;
    };
    auto block_list = [&](std::uint64_t size, std::uint32_t fragment, std::uint32_t offset) {
        claims("the block list of a file of " + std::to_string(size) + " bytes",
               4 * block_count(size, super.block_size, fragment, offset));
    };
    sqfs_inode_t base{};
    out.error = sqfs_meta_reader_seek(inodes, block, ref & 0xFFFF);
    if (out.error == 0) {
        out.error = read(inodes, base);
    }
    if (out.error != 0) {
        return out;
    }
    switch (le16toh(base.type)) {
    case SQFS_INODE_FILE: {
        sqfs_inode_file_t file{};
        if ((out.error = read(inodes, file)) == 0) {
            block_list(le32toh(file.file_size), le32toh(file.fragment_index),
                       le32toh(file.fragment_offset));
        }
        break;
    }
    case SQFS_INODE_EXT_FILE: {
        sqfs_inode_file_ext_t file{};
        if ((out.error = read(inodes, file)) == 0) {
            block_list(le64toh(file.file_size), le32toh(file.fragment_idx),
                       le32toh(file.fragment_offset));
        }
        break;
    }
    case SQFS_INODE_SLINK:
    case SQFS_INODE_EXT_SLINK: {
        sqfs_inode_slink_t link{};
        if ((out.error = read(inodes, link)) == 0) {
            claims("a symlink target", std::uint64_t{le32toh(link.target_size)} + 1);
        }
        break;
    }
    case SQFS_INODE_EXT_DIR: {
        sqfs_inode_dir_ext_t dir{};
        if ((out.error = read(inodes, dir)) != 0 || le32toh(dir.size) == 0) {
            break; // libsquashfs reads no index for an empty directory
        }
        // Each index entry is a fixed part and a name; libsquashfs allocates for the name
        // before reading it, growing the whole index by doubling (so up to twice its size).
        std::uint64_t total = 0;
        for (unsigned i = 0; i < le16toh(dir.inodex_count); ++i) {
            sqfs_dir_index_t index{};
            if ((out.error = read(inodes, index)) != 0) {
                break;
            }
            std::uint64_t name = std::uint64_t{le32toh(index.size)} + 1;
            total += sizeof(index) + name;
            if (!claims("the index of a directory", total) ||
                (out.error = skip(inodes, name)) != 0) {
                break;
            }
        }
        out.bytes = 2 * total;
        break;
    }
    default:
        break; // a fixed size
    }
    return out;
}

std::string fragment_table_problem(const sqfs_super_t& super, std::uint64_t image_size) {
    // When libsquashfs reads the table at all (sqfs_frag_table_read), with its limits: the
    // entries' metadata blocks lie between the directory table and the id (or export) table,
    // the list of their locations at fragment_table_start.
    std::uint64_t count = super.fragment_entry_count;
    if ((super.flags & SQFS_FLAG_NO_FRAGMENTS) != 0 || count == 0 ||
        super.fragment_table_start == ~std::uint64_t{0}) {
        return "";
    }
    std::uint64_t upper = std::min(super.id_table_start, super.export_table_start);
    std::uint64_t bytes = count * sizeof(sqfs_fragment_t);
    std::uint64_t blocks = (bytes + SQFS_META_BLOCK_SIZE - 1) / SQFS_META_BLOCK_SIZE;
    std::uint64_t room = capacity(super.directory_table_start, upper);
    std::string what = "the fragment table of " + std::to_string(count) + " entries needs " +
                       std::to_string(bytes) + " bytes of metadata";
    if (bytes > room) {
        return what + ", more than its place in the image can hold (" + std::to_string(room) + ")";
    }
    if (super.fragment_table_start > image_size ||
        8 * blocks > image_size - super.fragment_table_start) {
        return what + " in " + std::to_string(blocks) +
               " blocks, whose locations would lie beyond the image's end";
    }
    return "";
}

} // namespace ksx::image

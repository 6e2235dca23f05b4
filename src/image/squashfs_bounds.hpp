// Bounds on what libsquashfs allocates by sizes read from an image, checked before it allocates.
//
// libsquashfs 1.2 sizes some allocations by fields of the image and allocates before reading
// what they describe: an inode's variable part (sqfs_meta_reader_read_inode: a file's block list,
// 4 bytes for each block of file_size; a symlink's target, target_size; an extended directory's
// index, each entry's name size) and the fragment table (fragment_entry_count entries of 16
// bytes). A 1 KiB image could so make it allocate gigabytes. These functions read those sizes
// first and refuse what the image's tables cannot hold.
#pragma once

#include <cstdint>
#include <sqfs/predef.h>
#include <string>

namespace ksx::image {

struct InodePayload {
    int error = 0;           // an SQFS_ERROR code: the inode's fields could not be read
    std::string problem;     // set when the inode claims more than the inode table can hold
    std::uint64_t bytes = 0; // otherwise what libsquashfs allocates beyond the fixed part
};

// The inode at `ref` (metadata block relative to the inode table << 16 | offset), read with
// `inodes`, a reader of the inode table (it is left positioned anywhere).
InodePayload inode_payload(sqfs_meta_reader_t* inodes, const sqfs_super_t& super, sqfs_u64 ref);

// Empty, or why the fragment table that sqfs_data_reader_load_fragment_table would read does not
// fit the image of `image_size` bytes.
std::string fragment_table_problem(const sqfs_super_t& super, std::uint64_t image_size);

} // namespace ksx::image

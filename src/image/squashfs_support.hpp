// RAII owners for libsquashfs objects and readable texts for its error codes.
#pragma once

#include <memory>
#include <sqfs/predef.h>
#include <string>

namespace ksx::image {

// Objects created by the library (compressors, writers, readers) end with sqfs_destroy.
struct SqfsDestroy {
    void operator()(void* object) const { sqfs_destroy(object); }
};
template <typename T> using SqfsPtr = std::unique_ptr<T, SqfsDestroy>;

// Plain allocations handed out by the library (inodes, directory entries) end with sqfs_free.
struct SqfsFree {
    void operator()(void* memory) const { sqfs_free(memory); }
};
template <typename T> using SqfsMem = std::unique_ptr<T, SqfsFree>;

// "I/O error", "data corrupted", ... for an SQFS_ERROR code.
std::string sqfs_error_text(int code);

} // namespace ksx::image

// A libsquashfs file (sqfs_file_t) over a file descriptor we own elsewhere.
//
// libsquashfs' own sqfs_open_file() reopens by name and loses errno; going through a
// descriptor lets the writer fill an AtomicFile's temp file and report the real cause.
#pragma once

#include <atomic>
#include <cstdint>
#include <sqfs/io.h>

namespace ksx::image {

class SqfsFdFile {
public:
    // `fd` stays owned by the caller and must outlive this object. `size` is the current
    // length of the file (0 for a fresh output file).
    SqfsFdFile(int fd, std::uint64_t size, bool writable);
    SqfsFdFile(const SqfsFdFile&) = delete;
    SqfsFdFile& operator=(const SqfsFdFile&) = delete;

    sqfs_file_t* get() { return &state_.iface; }
    std::uint64_t size() const { return state_.size.load(); }
    // errno of the last failed system call, 0 if none failed.
    int last_errno() const { return state_.error.load(); }

private:
    // sqfs_file_t first, so the callbacks can get back from the interface pointer.
    struct State {
        sqfs_file_t iface;
        int fd;
        bool writable;
        std::atomic<std::uint64_t> size;
        std::atomic<int> error;
    };
    State state_;
};

} // namespace ksx::image

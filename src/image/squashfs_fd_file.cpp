#include "image/squashfs_fd_file.hpp"

#include <cerrno>
#include <cstddef>
#include <sqfs/error.h>
#include <type_traits>
#include <unistd.h>

namespace ksx::image {

namespace {

template <typename State> State* state_of(sqfs_file_t* file) {
    static_assert(std::is_standard_layout_v<State> && offsetof(State, iface) == 0);
    return reinterpret_cast<State*>(file);
}

} // namespace

SqfsFdFile::SqfsFdFile(int fd, std::uint64_t size, bool writable)
    : state_{{}, fd, writable, {size}, {0}} {
    // The object's lifetime is ours; libsquashfs 1.2 never destroys or copies a file.
    state_.iface.base.destroy = [](sqfs_object_t*) {};
    state_.iface.base.copy = nullptr;
    state_.iface.read_at = [](sqfs_file_t* file, sqfs_u64 offset, void* buffer,
                              size_t length) -> int {
        auto* self = state_of<State>(file);
        std::uint64_t end = self->size.load();
        if (offset >= end || length > end - offset) {
            return SQFS_ERROR_OUT_OF_BOUNDS;
        }
        auto* out = static_cast<char*>(buffer);
        while (length > 0) {
            ssize_t n = ::pread(self->fd, out, length, static_cast<off_t>(offset));
            if (n < 0 && errno == EINTR) {
                continue;
            }
            if (n <= 0) {
                self->error = n < 0 ? errno : EIO;
                return SQFS_ERROR_IO;
            }
            out += n;
            length -= static_cast<size_t>(n);
            offset += static_cast<sqfs_u64>(n);
        }
        return 0;
    };
    state_.iface.write_at = [](sqfs_file_t* file, sqfs_u64 offset, const void* buffer,
                               size_t length) -> int {
        auto* self = state_of<State>(file);
        if (!self->writable) {
            self->error = EBADF;
            return SQFS_ERROR_IO;
        }
        const auto* in = static_cast<const char*>(buffer);
        std::uint64_t end = offset + length;
        while (length > 0) {
            ssize_t n = ::pwrite(self->fd, in, length, static_cast<off_t>(offset));
            if (n < 0 && errno == EINTR) {
                continue;
            }
            if (n <= 0) {
                self->error = n < 0 ? errno : EIO;
                return SQFS_ERROR_IO;
            }
            in += n;
            length -= static_cast<size_t>(n);
            offset += static_cast<sqfs_u64>(n);
        }
        if (end > self->size.load()) {
            self->size = end;
        }
        return 0;
    };
    state_.iface.get_size = [](const sqfs_file_t* file) -> sqfs_u64 {
        return state_of<State>(const_cast<sqfs_file_t*>(file))->size.load();
    };
    state_.iface.truncate = [](sqfs_file_t* file, sqfs_u64 new_size) -> int {
        auto* self = state_of<State>(file);
        if (!self->writable || ::ftruncate(self->fd, static_cast<off_t>(new_size)) != 0) {
            self->error = self->writable ? errno : EBADF;
            return SQFS_ERROR_IO;
        }
        self->size = new_size;
        return 0;
    };
}

} // namespace ksx::image

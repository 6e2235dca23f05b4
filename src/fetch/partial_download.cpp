#include "fetch/partial_download.hpp"

#include "util/atomic_file.hpp"
#include "util/error.hpp"
#include "util/file_io.hpp"

#include <cerrno>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>

namespace ksx::fetch {

PartialDownload::PartialDownload(std::filesystem::path path) : path_(std::move(path)) {
    // The holder of the lock may rename the file away before we get it: lock again until the
    // locked file is the one under the name.
    for (;;) {
        fd_.reset(::open(path_.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644));
        if (!fd_) {
            throw_errno("failed to open " + path_.string());
        }
        while (::flock(fd_.get(), LOCK_EX) != 0) {
            if (errno != EINTR) {
                throw_errno("failed to lock " + path_.string());
            }
        }
        struct stat opened {};
        struct stat named {};
        if (::fstat(fd_.get(), &opened) != 0) {
            throw_errno("failed to stat " + path_.string());
        }
        if (::stat(path_.c_str(), &named) == 0 && named.st_dev == opened.st_dev &&
            named.st_ino == opened.st_ino) {
            return;
        }
    }
}

void PartialDownload::rehash() {
    hash_.reset();
    size_ = 0;
    read_file_chunks(path_, [this](std::string_view chunk) {
        hash_.update(chunk);
        size_ += chunk.size();
    });
    if (::lseek(fd_.get(), static_cast<off_t>(size_), SEEK_SET) < 0) {
        throw_errno("failed to seek in " + path_.string());
    }
}

void PartialDownload::restart() {
    if (::ftruncate(fd_.get(), 0) != 0 || ::lseek(fd_.get(), 0, SEEK_SET) < 0) {
        throw_errno("failed to truncate " + path_.string());
    }
    hash_.reset();
    size_ = 0;
}

void PartialDownload::append(std::string_view data) {
    hash_.update(data);
    size_ += data.size();
    while (!data.empty()) {
        ssize_t n = ::write(fd_.get(), data.data(), data.size());
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            throw_errno("failed to write " + path_.string());
        }
        data.remove_prefix(static_cast<size_t>(n));
    }
}

void PartialDownload::commit(const std::filesystem::path& target) {
    commit_file(path_, target);
}

void PartialDownload::discard() {
    if (::unlink(path_.c_str()) != 0 && errno != ENOENT) {
        throw_errno("failed to remove " + path_.string());
    }
}

} // namespace ksx::fetch

#include "util/atomic_file.hpp"

#include "util/error.hpp"

#include <cerrno>
#include <cstdlib>
#include <fcntl.h>
#include <string>
#include <sys/file.h>
#include <sys/stat.h>

namespace ksx {

namespace {

void fsync_directory(const std::filesystem::path& dir) {
    UniqueFd fd(::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!fd || ::fsync(fd.get()) != 0) {
        throw_errno("failed to sync directory " + dir.string());
    }
}

} // namespace

AtomicFile::AtomicFile(std::filesystem::path target, unsigned mode) : target_(std::move(target)) {
    auto dir = target_.parent_path();
    std::string name = ".";
    name += target_.filename().string();
    name += ".tmp.XXXXXX";
    // Locked for as long as it exists under its temporary name (owner_lock.hpp), so that a later
    // run can tell it from the leftover of a killed one.
    while (!fd_) {
        std::string pattern = (dir / name).string();
        UniqueFd created(::mkostemp(pattern.data(), O_CLOEXEC));
        if (!created) {
            throw_errno("failed to create a temporary file next to " + target_.string());
        }
        if (::flock(created.get(), LOCK_EX) != 0) {
            throw_errno("failed to lock " + pattern);
        }
        struct stat st {};
        if (::fstat(created.get(), &st) != 0) {
            throw_errno("failed to stat " + pattern);
        }
        if (st.st_nlink > 0) { // else a cleaner removed it before the lock: make another
            fd_ = std::move(created);
            temp_ = pattern;
        }
    }
    if (::fchmod(fd_.get(), mode) != 0) {
        throw_errno("failed to set the mode of " + temp_.string());
    }
}

AtomicFile::~AtomicFile() {
    if (!committed_ && !temp_.empty()) {
        ::unlink(temp_.c_str()); // before the lock goes with the fd
    }
}

void AtomicFile::write(std::string_view data) {
    while (!data.empty()) {
        ssize_t n = ::write(fd_.get(), data.data(), data.size());
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            throw_errno("failed to write " + temp_.string());
        }
        data.remove_prefix(static_cast<size_t>(n));
    }
}

void AtomicFile::commit() {
    if (::fsync(fd_.get()) != 0) {
        throw_errno("failed to sync " + temp_.string());
    }
    // Renamed while still locked: an unlocked temporary name is a leftover to others.
    if (::rename(temp_.c_str(), target_.c_str()) != 0) {
        throw_errno("failed to rename " + temp_.string() + " to " + target_.string());
    }
    committed_ = true;
    fd_.reset();
    fsync_directory(target_.parent_path());
}

void write_file_atomic(const std::filesystem::path& target, std::string_view data, unsigned mode) {
    AtomicFile file(target, mode);
    file.write(data);
    file.commit();
}

void commit_file(const std::filesystem::path& complete, const std::filesystem::path& target) {
    {
        UniqueFd fd(::open(complete.c_str(), O_RDONLY | O_CLOEXEC));
        if (!fd || ::fsync(fd.get()) != 0) {
            throw_errno("failed to sync " + complete.string());
        }
    }
    if (::rename(complete.c_str(), target.c_str()) != 0) {
        throw_errno("failed to rename " + complete.string() + " to " + target.string());
    }
    fsync_directory(target.parent_path());
}

} // namespace ksx

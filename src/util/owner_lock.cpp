#include "util/owner_lock.hpp"

#include "util/error.hpp"

#include <cerrno>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>

namespace ksx {

namespace fs = std::filesystem;

namespace {

UniqueFd open_entry(const fs::path& path) {
    // O_PATH descriptors cannot be flocked; O_RDONLY works for files and directories alike.
    return UniqueFd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK));
}

bool unlinked(int fd) {
    struct stat st {};
    return ::fstat(fd, &st) == 0 && st.st_nlink == 0;
}

} // namespace

UniqueFd lock_new_entry(const fs::path& path) {
    UniqueFd fd = open_entry(path);
    if (!fd) {
        if (errno == ENOENT) {
            return {};
        }
        throw_errno("failed to open " + path.string());
    }
    while (::flock(fd.get(), LOCK_EX) != 0) {
        if (errno != EINTR) {
            throw_errno("failed to lock " + path.string());
        }
    }
    // A cleaner that opened the entry before our lock removed it and then let go.
    if (unlinked(fd.get())) {
        return {};
    }
    return fd;
}

UniqueFd try_lock_entry(const fs::path& path) {
    UniqueFd fd = open_entry(path);
    if (!fd || ::flock(fd.get(), LOCK_EX | LOCK_NB) != 0 || unlinked(fd.get())) {
        return {};
    }
    return fd;
}

void mark_kept(const fs::path& dir) {
    UniqueFd fd(::open((dir / kept_marker).c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644));
    if (!fd) {
        throw_errno("failed to mark " + dir.string() + " as kept");
    }
}

bool is_kept(const fs::path& dir) {
    std::error_code ec;
    return fs::exists(dir / kept_marker, ec);
}

std::vector<fs::path> remove_abandoned(const fs::path& dir,
                                       const std::function<bool(const std::string&)>& matches,
                                       bool include_kept) {
    std::vector<fs::path> removed;
    std::error_code ec;
    fs::directory_iterator it(dir, ec);
    if (ec) {
        return removed;
    }
    for (const auto& entry : it) {
        const auto name = entry.path().filename().string();
        if (!matches(name)) {
            continue;
        }
        auto type = entry.symlink_status(ec).type();
        if (ec || (type != fs::file_type::regular && type != fs::file_type::directory)) {
            continue;
        }
        // Held until the entry is gone, so that its creator (when it raced us) sees it removed.
        auto lock = try_lock_entry(entry.path());
        if (!lock) {
            continue;
        }
        if (type == fs::file_type::directory && !include_kept && is_kept(entry.path())) {
            continue;
        }
        fs::remove_all(entry.path(), ec);
        if (!ec) {
            removed.push_back(entry.path());
        }
    }
    return removed;
}

DirectoryLock::DirectoryLock(const fs::path& dir, Mode mode, Wait wait)
    : fd_(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC)) {
    if (!fd_) {
        throw_errno("failed to open directory " + dir.string());
    }
    int op = (mode == Mode::Shared ? LOCK_SH : LOCK_EX) | (wait == Wait::No ? LOCK_NB : 0);
    while (::flock(fd_.get(), op) != 0) {
        if (errno == EWOULDBLOCK && wait == Wait::No) {
            return;
        }
        if (errno != EINTR) {
            throw_errno("failed to lock directory " + dir.string());
        }
    }
    locked_ = true;
}

} // namespace ksx

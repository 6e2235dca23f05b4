#include "util/remove_tree.hpp"

#include <cstdio>
#include <ftw.h>
#include <sys/stat.h>
#include <unistd.h>

namespace ksx {

namespace {

// nftw() callbacks take no user data; removal runs on one thread at a time per call chain.
thread_local bool all_removed = true;

int make_writable(const char* path, const struct stat* st, int type, struct FTW*) {
    if (type == FTW_D && (st->st_mode & S_IRWXU) != S_IRWXU) {
        ::chmod(path, (st->st_mode & 07777) | S_IRWXU);
    }
    return 0;
}

int remove_entry(const char* path, const struct stat*, int type, struct FTW*) {
    int rc = (type == FTW_DP) ? ::rmdir(path) : ::unlink(path);
    if (rc != 0) {
        all_removed = false;
    }
    return 0;
}

} // namespace

bool remove_tree(const std::filesystem::path& path) noexcept {
    struct stat st {};
    if (::lstat(path.c_str(), &st) != 0) {
        return true;
    }
    all_removed = true;
    // FTW_MOUNT: stay on the file system of `path`; FTW_PHYS: never follow symlinks.
    ::nftw(path.c_str(), make_writable, 64, FTW_MOUNT | FTW_PHYS);
    if (::nftw(path.c_str(), remove_entry, 64, FTW_MOUNT | FTW_PHYS | FTW_DEPTH) != 0) {
        all_removed = false;
    }
    return all_removed;
}

} // namespace ksx

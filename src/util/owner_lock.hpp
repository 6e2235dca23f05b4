// Entries (temp files, staging and work directories) owned by a running process: the creator
// holds an exclusive flock(2) on the entry for as long as it uses it, and the kernel drops that
// lock when the process ends, however it ends. An entry whose lock can be taken belongs to a
// process that is gone, so a later run may remove it.
#pragma once

#include "util/unique_fd.hpp"

#include <filesystem>
#include <functional>
#include <string>
#include <vector>

namespace ksx {

// Locks an entry this process has just created (a file or a directory) and returns the fd that
// holds the lock; an empty fd when a cleaner removed the entry between its creation and the
// lock (then the caller creates another one). Throws Error when it cannot be opened or locked.
UniqueFd lock_new_entry(const std::filesystem::path& path);

// Takes the lock of an existing entry without waiting: an empty fd when another process holds
// it (the entry is in use) or the entry is gone.
UniqueFd try_lock_entry(const std::filesystem::path& path);

// A directory deliberately left for the user (a failed build's logs) carries this marker; the
// automatic cleanup leaves it, `kmod-sysext cache prune` does not.
inline constexpr const char* kept_marker = ".kmod-sysext-kept";
void mark_kept(const std::filesystem::path& dir);
bool is_kept(const std::filesystem::path& dir);

// Removes the entries of `dir` whose names `matches` selects and whose lock is free (skipping
// kept directories unless `include_kept`); returns what was removed. Entries that vanish or
// cannot be removed are skipped: cleanup never fails a run.
std::vector<std::filesystem::path>
remove_abandoned(const std::filesystem::path& dir,
                 const std::function<bool(const std::string& name)>& matches,
                 bool include_kept = false);

// A flock(2) on a directory itself, shared or exclusive, released on destruction.
class DirectoryLock {
public:
    enum class Mode { Shared, Exclusive };
    enum class Wait { Yes, No };
    // Throws Error when the directory cannot be opened; with Wait::No, locked() tells whether
    // the lock was free.
    DirectoryLock(const std::filesystem::path& dir, Mode mode, Wait wait = Wait::Yes);
    bool locked() const { return locked_; }
    int fd() const { return fd_.get(); }

private:
    UniqueFd fd_;
    bool locked_ = false;
};

} // namespace ksx

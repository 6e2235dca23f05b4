#include "container/container_use.hpp"

#include "util/error.hpp"

#include <map>
#include <mutex>
#include <sys/stat.h>

namespace fs = std::filesystem;

namespace ksx::container {

namespace {

std::mutex registry_mutex;
// This process's uses, by directory: its targets share one lock per container.
std::map<std::string, std::weak_ptr<const DirectoryLock>> registry;

std::string registry_key(const fs::path& dir) {
    return fs::absolute(dir).lexically_normal();
}

// True when the directory `fd` is open on is the one now at `dir` (not one moved aside).
bool is_at(int fd, const fs::path& dir) {
    struct stat opened {};
    struct stat now {};
    return ::fstat(fd, &opened) == 0 && ::stat(dir.c_str(), &now) == 0 &&
           opened.st_dev == now.st_dev && opened.st_ino == now.st_ino;
}

bool complete(const fs::path& dir, const char* stamp) {
    std::error_code ec;
    return fs::exists(dir / stamp, ec);
}

// The lock on the directory at `dir`; null when nothing is there any more (a refresh moved it
// aside and has not renamed the new one in yet).
std::shared_ptr<DirectoryLock> lock_if_there(const fs::path& dir, DirectoryLock::Wait wait) {
    try {
        return std::make_shared<DirectoryLock>(dir, DirectoryLock::Mode::Shared, wait);
    } catch (const Error&) {
        std::error_code ec;
        if (fs::exists(dir, ec)) {
            throw;
        }
        return nullptr;
    }
}

} // namespace

ContainerUse held_use(const fs::path& dir) {
    std::lock_guard guard(registry_mutex);
    auto found = registry.find(registry_key(dir));
    return found == registry.end() ? nullptr : found->second.lock();
}

ContainerUse start_use(const fs::path& dir, const char* stamp, Progress& progress) {
    bool said = false;
    while (complete(dir, stamp)) {
        auto lock = lock_if_there(dir, DirectoryLock::Wait::No);
        if (lock && !lock->locked()) {
            if (!said) {
                progress.line("container " + dir.filename().string() +
                              ": another run is refreshing it; waiting for the new one");
                said = true;
            }
            lock = lock_if_there(dir, DirectoryLock::Wait::Yes);
        }
        if (!lock) {
            return nullptr;
        }
        // A refresh may have replaced it while this run waited: then use the new one.
        if (is_at(lock->fd(), dir) && complete(dir, stamp)) {
            std::lock_guard guard(registry_mutex);
            registry[registry_key(dir)] = lock;
            return lock;
        }
    }
    return nullptr;
}

DirectoryLock claim_for_refresh(const fs::path& dir) {
    DirectoryLock lock(dir, DirectoryLock::Mode::Exclusive, DirectoryLock::Wait::No);
    if (!lock.locked()) {
        throw Error("--refresh-container: the developer container " + dir.string() +
                    " is in use by another run; refresh it when that run has finished");
    }
    return lock;
}

} // namespace ksx::container

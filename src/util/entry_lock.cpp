#include "util/entry_lock.hpp"

#include "util/error.hpp"

#include <cerrno>
#include <fcntl.h>
#include <sys/file.h>

namespace fs = std::filesystem;

namespace ksx {

fs::path EntryLock::lock_file(const fs::path& cache, const std::string& name) {
    return cache / "locks" / (name + ".lock");
}

EntryLock::EntryLock(const fs::path& cache, const std::string& name) {
    const auto path = lock_file(cache, name);
    fs::create_directories(path.parent_path());
    fd_ = UniqueFd(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644));
    if (!fd_) {
        throw_errno("failed to open " + path.string());
    }
    while (::flock(fd_.get(), LOCK_EX) != 0) {
        if (errno != EINTR) {
            throw_errno("failed to lock " + path.string());
        }
    }
}

} // namespace ksx

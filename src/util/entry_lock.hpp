// One maker per cache entry. Runs that may make the same entry (a developer container, by its
// key) hold an exclusive flock(2) on "<entry>.lock" beside it while they look for the entry and
// make it: a second run waits, then finds the entry the first one made and uses it, instead of
// making it again and renaming its copy over a directory the first run's build is using.
#pragma once

#include "util/unique_fd.hpp"

#include <filesystem>

namespace ksx {

class EntryLock {
public:
    // Creates "<entry>.lock" (and its directory) if needed and waits for its lock. Throws Error
    // when it cannot be created or locked.
    explicit EntryLock(const std::filesystem::path& entry);

    // "<entry>.lock".
    static std::filesystem::path lock_file(const std::filesystem::path& entry);

private:
    UniqueFd fd_;
};

} // namespace ksx

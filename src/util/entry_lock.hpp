// One maker per cache entry. Runs that may make the same entry (a developer container, by its
// key) hold an exclusive flock(2) on "<cache>/locks/<name>.lock" while they look for the entry
// and make it: a second run waits, then finds the entry the first one made and uses it, instead
// of making it again and renaming its copy over a directory the first run's build is using. The
// lock files live apart from the entries, so a failed attempt leaves nothing beside them, and
// are never removed while runs may use them (a waiter would lock a file no longer there).
#pragma once

#include "util/unique_fd.hpp"

#include <filesystem>
#include <string>

namespace ksx {

class EntryLock {
public:
    // Creates "<cache>/locks/<name>.lock" (and its directory) if needed and waits for its lock.
    // Throws Error when it cannot be created or locked.
    EntryLock(const std::filesystem::path& cache, const std::string& name);

    // "<cache>/locks/<name>.lock".
    static std::filesystem::path lock_file(const std::filesystem::path& cache,
                                           const std::string& name);

private:
    UniqueFd fd_;
};

} // namespace ksx

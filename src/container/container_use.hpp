// Cached developer containers in use. A build compiles in its container for minutes or hours,
// by path; `--refresh-container` in another run must not move or remove that directory under
// it. A run holds a shared flock(2) on a container's directory for as long as it may compile in
// it; a refresh holds the exclusive lock from before it starts making the new container until
// the old one is gone, and is refused when another run uses the container.
#pragma once

#include "util/owner_lock.hpp"
#include "util/progress.hpp"

#include <filesystem>
#include <memory>
#include <string>

namespace ksx::container {

// A shared lock on one container directory; copies share it, the last one releases it.
using ContainerUse = std::shared_ptr<const DirectoryLock>;

// The use this process holds on `dir` already (a manifest's targets may share a container), or
// null. While it lives, the container at `dir` is the one it locks.
ContainerUse held_use(const std::filesystem::path& dir);

// Starts using the complete container at `dir` (complete: `stamp` exists in it): the shared
// lock, taken on the directory that is at `dir` when the lock is granted. Waits (saying so once)
// while another run refreshes it. Null when `dir` is missing or incomplete.
ContainerUse start_use(const std::filesystem::path& dir, const char* stamp, Progress& progress);

// The exclusive lock a refresh holds on the container it replaces. Throws Error, naming the
// container, when another run uses it; never waits (a refresh that waited for a run waiting for
// it would never end).
DirectoryLock claim_for_refresh(const std::filesystem::path& dir);

} // namespace ksx::container

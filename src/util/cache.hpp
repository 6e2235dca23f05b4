// The cache directory's entries (developer containers, downloads, work directories, kernel
// builds, compiler caches) and who
// uses them: a run holds the cache's shared lock while it may use containers and downloads,
// and the lock of its own work directory (owner_lock.hpp). For `kmod-sysext cache` and build.
#pragma once

#include "util/owner_lock.hpp"
#include "util/temp_dir.hpp"

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

namespace ksx {

// Held by a run for its lifetime: `cache prune` removes no container or download meanwhile.
DirectoryLock use_cache(const std::filesystem::path& cache);

// A fresh work directory for one build under `<cache>/work`, owned (locked) by this run.
TempDir make_work_dir(const std::filesystem::path& cache, const std::string& name);
// Keeps a work directory for the user (its logs): not removed when the run ends nor by the
// automatic cleanup; `kmod-sysext cache prune` removes it.
void keep_work_dir(TempDir& work);
// Removes what runs that are gone left: their work directories (unless kept) and their temp
// files and directories among the downloads; returns them.
std::vector<std::filesystem::path> remove_leftovers(const std::filesystem::path& cache);

// Records that the cache entry holding `path` (a container's root) was used now.
void mark_used(const std::filesystem::path& cache, const std::filesystem::path& path);

// Build: a kernel's image set kept by the build cache (`<cache>/builds/<key>`, build_cache.hpp);
// Compiler: a container family's ccache directory (`<cache>/ccache/<family>`).
enum class CacheKind { Container, Download, Work, Build, Compiler };
const char* to_string(CacheKind kind);

struct CacheEntry {
    CacheKind kind = CacheKind::Container;
    std::filesystem::path path;
    std::uint64_t bytes = 0; // disk usage, hard links counted once
    std::filesystem::file_time_type last_use;
    bool in_use = false;   // held by a running build (or, for containers and downloads, by
                           // any run using the cache)
    bool leftover = false; // of a run that is gone: unfinished container, partial download,
                           // work directory not kept
    bool kept = false;     // a work directory kept for its logs
};

// Every entry of the cache, sorted by kind and path.
std::vector<CacheEntry> list_cache(const std::filesystem::path& cache);

struct PruneOptions {
    std::vector<CacheKind> kinds; // empty: all
    bool all = false;             // every entry not in use
    int older_than_days = -1;     // also entries unused for this long; -1: leftovers only
    std::chrono::system_clock::time_point now = std::chrono::system_clock::now();
};

// Removes the selected entries that are not in use with `remove` (a tree remover that returns
// false on failure); returns the entries removed. Leftovers are always selected.
std::vector<CacheEntry>
prune_cache(const std::filesystem::path& cache, const PruneOptions& options,
            const std::function<bool(const std::filesystem::path&)>& remove);

} // namespace ksx

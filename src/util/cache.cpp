#include "util/cache.hpp"

#include "util/error.hpp"

#include <algorithm>
#include <fcntl.h>
#include <set>
#include <sys/stat.h>
#include <utility>

namespace ksx {

namespace fs = std::filesystem;

namespace {

// Disk usage of a tree (st_blocks), each inode counted once, symlinks not followed.
std::uint64_t disk_usage(const fs::path& path) {
    std::set<std::pair<dev_t, ino_t>> seen;
    std::uint64_t total = 0;
    auto add = [&](const fs::path& p) {
        struct stat st {};
        if (::lstat(p.c_str(), &st) == 0 && seen.emplace(st.st_dev, st.st_ino).second) {
            total += static_cast<std::uint64_t>(st.st_blocks) * 512;
        }
    };
    add(path);
    std::error_code ec;
    if (fs::is_directory(fs::symlink_status(path, ec))) {
        for (fs::recursive_directory_iterator
                 it(path, fs::directory_options::skip_permission_denied, ec),
             end;
             !ec && it != end; it.increment(ec)) {
            add(it->path());
        }
    }
    return total;
}

fs::file_time_type last_use_of(const fs::path& path) {
    struct stat st {};
    if (::lstat(path.c_str(), &st) != 0) {
        return {};
    }
    // A file's reads move its atime (relatime: at least daily); a directory's mtime is set by
    // mark_used() or by what its run writes.
    auto newest = st.st_mtim;
    if (S_ISREG(st.st_mode) && (st.st_atim.tv_sec > newest.tv_sec)) {
        newest = st.st_atim;
    }
    auto since_epoch =
        std::chrono::seconds(newest.tv_sec) + std::chrono::nanoseconds(newest.tv_nsec);
    return fs::file_time_type::clock::from_sys(std::chrono::system_clock::time_point(
        std::chrono::duration_cast<std::chrono::system_clock::duration>(since_epoch)));
}

bool is_unfinished_container(const std::string& name) {
    return name.find(".partial-") != std::string::npos || name.find(".old-") != std::string::npos;
}

bool is_temp_file(const std::string& name) {
    return name.starts_with(".") && name.size() > 11 &&
           name.compare(name.size() - 11, 5, ".tmp.") == 0;
}

// An AtomicFile's temp file or a TempDir of apt_source (both owned: owner_lock.hpp).
bool is_download_temp(const std::string& name) {
    return is_temp_file(name) || (name.starts_with(".download-") && name.size() == 16);
}

void add_entries(std::vector<CacheEntry>& entries, const fs::path& dir, CacheKind kind,
                 bool cache_busy) {
    std::error_code ec;
    for (const auto& item : fs::directory_iterator(dir, ec)) {
        const auto name = item.path().filename().string();
        const bool is_dir = item.is_directory(ec);
        CacheEntry entry;
        entry.kind = kind;
        entry.path = item.path();
        if (kind == CacheKind::Container) {
            if (name == "oci-tags" || (!is_dir && name.ends_with(".log"))) {
                continue; // remembered tags and build logs go with their containers
            }
            entry.leftover = is_unfinished_container(name);
            entry.in_use = cache_busy;
        } else if (kind == CacheKind::Compiler) {
            entry.in_use = cache_busy;
        } else if (kind == CacheKind::Build && !name.starts_with(".tmp.")) {
            // Readers hold a shared lock on an entry while they copy from it.
            entry.in_use = !try_lock_entry(item.path());
        } else if (kind == CacheKind::Download) {
            if (is_download_temp(name)) {
                entry.in_use = !try_lock_entry(item.path());
                entry.leftover = !entry.in_use;
            } else {
                entry.in_use = cache_busy;
            }
        } else {
            entry.in_use = !try_lock_entry(item.path());
            entry.kept = is_dir && is_kept(item.path());
            entry.leftover = !entry.in_use && !entry.kept;
        }
        entry.bytes = disk_usage(item.path());
        entry.last_use = last_use_of(item.path());
        entries.push_back(std::move(entry));
    }
}

} // namespace

DirectoryLock use_cache(const fs::path& cache) {
    return DirectoryLock(cache, DirectoryLock::Mode::Shared);
}

TempDir make_work_dir(const fs::path& cache, const std::string& name) {
    fs::create_directories(cache / "work");
    return TempDir(name + "-", cache / "work");
}

void keep_work_dir(TempDir& work) {
    mark_kept(work.path());
    work.keep();
}

std::vector<fs::path> remove_leftovers(const fs::path& cache) {
    auto removed = remove_abandoned(cache / "work", [](const std::string&) { return true; });
    // A build cache entry being written by a run that was killed.
    auto builds = remove_abandoned(
        cache / "builds", [](const std::string& name) { return name.starts_with(".tmp."); });
    removed.insert(removed.end(), builds.begin(), builds.end());
    for (const auto* dir : {"downloads", "apt"}) {
        auto temps = remove_abandoned(cache / dir, is_download_temp);
        removed.insert(removed.end(), temps.begin(), temps.end());
    }
    return removed;
}

void mark_used(const fs::path& cache, const fs::path& path) {
    auto relative = path.lexically_normal().lexically_relative(cache.lexically_normal());
    auto it = relative.begin();
    if (relative.empty() || *it == ".." || std::distance(relative.begin(), relative.end()) < 2) {
        return; // not in the cache
    }
    auto entry = cache / *it / *std::next(it);
    // Best effort: a read-only cache only loses its "last use" times.
    ::utimensat(AT_FDCWD, entry.c_str(), nullptr, 0);
}

const char* to_string(CacheKind kind) {
    switch (kind) {
    case CacheKind::Container:
        return "container";
    case CacheKind::Download:
        return "download";
    case CacheKind::Work:
        return "work";
    case CacheKind::Build:
        return "build";
    case CacheKind::Compiler:
        return "compiler";
    }
    return "?";
}

std::vector<CacheEntry> list_cache(const fs::path& cache) {
    std::vector<CacheEntry> entries;
    std::error_code ec;
    if (!fs::is_directory(cache, ec)) {
        return entries;
    }
    DirectoryLock probe(cache, DirectoryLock::Mode::Exclusive, DirectoryLock::Wait::No);
    const bool busy = !probe.locked();
    add_entries(entries, cache / "containers", CacheKind::Container, busy);
    add_entries(entries, cache / "tarballs", CacheKind::Container, busy);
    if (fs::is_directory(cache / "ostree", ec)) {
        CacheEntry repo;
        repo.kind = CacheKind::Container;
        repo.path = cache / "ostree";
        repo.in_use = busy;
        repo.bytes = disk_usage(repo.path);
        repo.last_use = last_use_of(repo.path / "repo");
        entries.push_back(std::move(repo));
    }
    add_entries(entries, cache / "downloads", CacheKind::Download, busy);
    add_entries(entries, cache / "apt", CacheKind::Download, busy);
    add_entries(entries, cache / "work", CacheKind::Work, busy);
    add_entries(entries, cache / "builds", CacheKind::Build, busy);
    add_entries(entries, cache / "ccache", CacheKind::Compiler, busy);
    std::sort(entries.begin(), entries.end(), [](const CacheEntry& a, const CacheEntry& b) {
        return std::pair(a.kind, a.path) < std::pair(b.kind, b.path);
    });
    return entries;
}

std::vector<CacheEntry> prune_cache(const fs::path& cache, const PruneOptions& options,
                                    const std::function<bool(const fs::path&)>& remove) {
    std::vector<CacheEntry> removed;
    std::error_code ec;
    if (!fs::is_directory(cache, ec)) {
        return removed;
    }
    // Held while removing: no run starts using a container or download meanwhile.
    DirectoryLock exclusive(cache, DirectoryLock::Mode::Exclusive, DirectoryLock::Wait::No);
    const auto cutoff = options.now - std::chrono::days(std::max(0, options.older_than_days));
    for (auto& entry : list_cache(cache)) {
        if (!options.kinds.empty() && std::find(options.kinds.begin(), options.kinds.end(),
                                                entry.kind) == options.kinds.end()) {
            continue;
        }
        auto last_use = fs::file_time_type::clock::to_sys(entry.last_use);
        bool selected =
            entry.leftover || options.all || (options.older_than_days >= 0 && last_use < cutoff);
        if (!selected) {
            continue;
        }
        UniqueFd owner; // a work directory or temp file stays locked until it is gone
        if (entry.kind == CacheKind::Work || entry.kind == CacheKind::Build ||
            is_download_temp(entry.path.filename().string())) {
            owner = try_lock_entry(entry.path);
            if (!owner) {
                continue;
            }
        } else if (!exclusive.locked()) {
            continue; // a run is using the cache
        }
        if (!remove(entry.path)) {
            throw Error("failed to remove " + entry.path.string());
        }
        if (entry.kind == CacheKind::Container) {
            fs::remove(entry.path.string() + ".log", ec);
        }
        entry.in_use = false;
        removed.push_back(std::move(entry));
    }
    return removed;
}

} // namespace ksx

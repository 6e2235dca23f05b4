#include "build/build_cache.hpp"

#include "contract/sha256sums.hpp"
#include "util/atomic_file.hpp"
#include "util/error.hpp"
#include "util/file_io.hpp"
#include "util/owner_lock.hpp"
#include "util/remove_tree.hpp"
#include "util/sha256.hpp"
#include "util/temp_dir.hpp"
#include "util/unique_fd.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <fcntl.h>
#include <sstream>
#include <sys/stat.h>
#include <unistd.h>

namespace ksx::build {

namespace fs = std::filesystem;

namespace {

constexpr const char* kRecord = "record.json";
constexpr const char* kSums = "SHA256SUMS"; // "<sha256>  <name>" per file, in data/
constexpr const char* kData = "data";

void fsync_path(const fs::path& path) {
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd || ::fsync(fd.get()) != 0) {
        throw_errno("failed to sync " + path.string());
    }
}

std::vector<contract::Sha256Sum> read_sums(const fs::path& file) {
    return contract::parse_sha256sums(read_file(file), [&](int line) {
        throw Error(file.string() + ":" + std::to_string(line) + ": malformed line");
    });
}

std::uint64_t tree_bytes(const fs::path& dir) {
    std::uint64_t total = 0;
    std::error_code ec;
    for (fs::recursive_directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
        if (it->is_regular_file(ec)) {
            total += it->file_size(ec);
        }
    }
    return total;
}

bool is_entry_name(const std::string& name) {
    return name.size() == 64 && name.find_first_not_of("0123456789abcdef") == std::string::npos;
}

// Removes an entry whose exclusive lock `owner` holds (so no reader is copying from it).
void remove_locked(const fs::path& entry, const UniqueFd& owner) {
    (void)owner;
    if (!remove_tree(entry)) {
        throw Error("failed to remove build cache entry " + entry.string());
    }
}

} // namespace

std::string build_cache_key(const BuildKeyInputs& inputs) {
    // Each part with its length: no two splits of the same bytes give one key.
    std::string keyed = "kmod-sysext build cache 2\n";
    auto add = [&keyed](const std::string& part) {
        keyed += std::to_string(part.size()) + ':' + part + '\n';
    };
    add(inputs.tool_version);
    add(inputs.plan_key);
    add(inputs.kernel_release);
    add(inputs.container);
    for (const auto& cert : inputs.certs) {
        add(sha256_hex(cert));
    }
    add(std::to_string(inputs.timestamp));
    add(inputs.userspace);
    return sha256_hex(keyed);
}

std::uint64_t parse_size(const std::string& text) {
    size_t digits = 0;
    while (digits < text.size() && text[digits] >= '0' && text[digits] <= '9') {
        ++digits;
    }
    auto suffix = text.substr(digits);
    int shift = 0;
    if (suffix == "K") {
        shift = 10;
    } else if (suffix == "M") {
        shift = 20;
    } else if (suffix == "G") {
        shift = 30;
    } else if (suffix == "T") {
        shift = 40;
    } else if (!suffix.empty()) {
        digits = 0; // refused below
    }
    if (digits == 0 || digits > 12) {
        throw InputError("\"" + text + "\" is not a size (a number of bytes, or with K, M, G, T)");
    }
    return std::stoull(text.substr(0, digits)) << shift;
}

std::uint64_t build_cache_limit() {
    const char* value = std::getenv("KSX_BUILD_CACHE_MAX");
    if (value == nullptr || *value == '\0') {
        return std::uint64_t{10} << 30;
    }
    try {
        return parse_size(value);
    } catch (const InputError& e) {
        throw InputError(std::string("KSX_BUILD_CACHE_MAX: ") + e.what());
    }
}

BuildCache::BuildCache(fs::path root, std::uint64_t max_bytes)
    : root_(std::move(root)), max_bytes_(max_bytes) {}

std::optional<BuildCache::Restored> BuildCache::restore(const std::string& key,
                                                        const fs::path& dir) {
    const auto entry = root_ / key;
    std::error_code ec;
    if (!fs::is_directory(entry, ec)) {
        return std::nullopt;
    }
    Restored restored;
    bool damaged = false;
    {
        // Shared: several runs may copy from it; eviction and replacement take it exclusively.
        std::optional<DirectoryLock> reading;
        try {
            reading.emplace(entry, DirectoryLock::Mode::Shared, DirectoryLock::Wait::No);
        } catch (const Error&) {
            return std::nullopt; // removed meanwhile
        }
        if (!reading->locked()) {
            return std::nullopt; // being replaced or removed
        }
        try {
            for (const auto& sum : read_sums(entry / kSums)) {
                const auto target = dir / sum.file;
                restored.files.push_back(sum.file); // removed again if anything fails
                fs::copy_file(entry / kData / sum.file, target,
                              fs::copy_options::overwrite_existing);
                if (sha256_file_hex(target) != sum.sha256) {
                    throw Error(target.string() + ": not the bytes stored");
                }
            }
            restored.record = read_file(entry / kRecord);
        } catch (const std::exception&) {
            damaged = true;
        }
    }
    if (damaged) {
        for (const auto& name : restored.files) {
            fs::remove(dir / name, ec);
        }
        if (auto owner = try_lock_entry(entry)) {
            remove_tree(entry);
        }
        return std::nullopt;
    }
    for (const auto& name : restored.files) {
        fsync_path(dir / name);
    }
    // The entry's last use, for the least-recently-used eviction (best effort).
    ::utimensat(AT_FDCWD, entry.c_str(), nullptr, 0);
    return restored;
}

void BuildCache::store(const std::string& key, const fs::path& dir,
                       const std::vector<std::string>& files, const std::string& record) {
    fs::create_directories(root_);
    TempDir temp(".tmp." + key.substr(0, 16) + "-", root_);
    const auto data = temp.path() / kData;
    fs::create_directory(data);
    std::vector<contract::Sha256Sum> sums;
    for (const auto& name : files) {
        fs::copy_file(dir / name, data / name);
        fsync_path(data / name);
        sums.push_back({sha256_file_hex(data / name), name});
    }
    fsync_path(data);
    write_file_atomic(temp.path() / kSums, contract::format_sha256sums(sums));
    write_file_atomic(temp.path() / kRecord, record);
    fsync_path(temp.path());

    const auto entry = root_ / key;
    std::error_code ec;
    if (fs::exists(fs::symlink_status(entry, ec))) {
        auto owner = try_lock_entry(entry);
        if (!owner) {
            return; // a run is reading it: keep it
        }
        remove_locked(entry, owner);
    }
    if (::rename(temp.path().c_str(), entry.c_str()) != 0) {
        if (errno == EEXIST || errno == ENOTEMPTY) {
            return; // another run stored the same key meanwhile
        }
        throw_errno("failed to rename " + temp.path().string() + " to " + entry.string());
    }
    fsync_path(root_);
    evict(key);
}

std::vector<fs::path> BuildCache::evict(const std::string& keep) {
    struct Entry {
        fs::path path;
        fs::file_time_type used;
        std::uint64_t bytes;
    };
    std::vector<Entry> entries;
    std::uint64_t total = 0;
    std::error_code ec;
    for (const auto& item : fs::directory_iterator(root_, ec)) {
        if (!is_entry_name(item.path().filename().string()) || !item.is_directory(ec)) {
            continue;
        }
        Entry e{item.path(), fs::last_write_time(item.path(), ec), tree_bytes(item.path())};
        total += e.bytes;
        entries.push_back(std::move(e));
    }
    std::sort(entries.begin(), entries.end(),
              [](const Entry& a, const Entry& b) { return a.used < b.used; });
    std::vector<fs::path> removed;
    for (const auto& e : entries) {
        if (total <= max_bytes_) {
            break;
        }
        if (e.path.filename() == keep) {
            continue;
        }
        auto owner = try_lock_entry(e.path);
        if (!owner) {
            continue; // in use
        }
        remove_locked(e.path, owner);
        total -= e.bytes;
        removed.push_back(e.path);
    }
    return removed;
}

} // namespace ksx::build

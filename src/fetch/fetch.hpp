// Getting module sources and packages onto the host, verified before use.
#pragma once

#include "util/progress.hpp"

#include <filesystem>
#include <string>
#include <vector>

namespace ksx::fetch {

// What makes a download from a stalled server fail soon: an attempt below `low_speed_limit`
// bytes/s for `low_speed_time_s` seconds has stalled, and no new attempt starts once
// `deadline_s` seconds have gone by since the download began, or since the last attempt that
// moved real data (`low_speed_limit` x `low_speed_time_s` bytes). A stalling or trickling
// server thus fails a download in about `deadline_s` plus one `low_speed_time_s`; a transfer
// that keeps up its speed is never cut off, and one cut off late is still resumed. 0 turns a
// limit off.
struct StallLimits {
    long low_speed_limit = 1024;
    long low_speed_time_s = 20;
    long deadline_s = 60;
};

// The defaults, each overridden by its environment variable when set: KSX_DOWNLOAD_LOW_SPEED
// (bytes/s), KSX_DOWNLOAD_LOW_SPEED_TIME and KSX_DOWNLOAD_DEADLINE (seconds). A value that is
// not a whole number throws InputError naming the variable.
StallLimits stall_limits_from_environment();

struct DownloadOptions {
    std::filesystem::path cache_dir; // downloads live in <cache_dir>/downloads/<sha256>;
                                     // empty: ksx::cache_dir()
    Progress& progress = Progress::quiet();
    unsigned retries = 4; // on network errors, HTTP 5xx and 429, with backoff
    long connect_timeout_s = 30;
    StallLimits stall = stall_limits_from_environment();
    double retry_base_s = 0.5;             // first backoff; doubles with every further failure
    long retry_after_cap_s = 60;           // a server's Retry-After is honoured up to this
    std::filesystem::path ca_file = {};    // PEM certificates to trust instead of the system's (a
                                           // private mirror); empty: the system's
    bool verify_tls = true;                // false: accept any certificate (an insecure registry)
    std::vector<std::string> headers = {}; // extra request headers, "Name: value"
    std::string label = {};                // shown instead of the URL in progress lines
};

// Downloads `url` (libcurl: redirects, retries with backoff, resume of a partial download)
// unless the cache already holds a file with this sha256, verifies the sha256, and returns the
// cached path. A mismatch or truncation throws Error, a network or HTTP error TransferError
// (transfer_error.hpp), naming the URL and what went wrong; nothing appears in the cache under
// the final name unless verified.
std::filesystem::path download(const std::string& url, const std::string& sha256,
                               const DownloadOptions& options);

// Unpacks an archive (tar with any compression, zip, cpio, .deb — the data.tar member — and
// .rpm — its cpio payload) into `destination` (created; must not exist) with the same safety
// rules as the developer container's tarball extraction (no "..", absolute paths or escapes
// through symlinks or hard links). Returns the relative paths of the regular files written.
std::vector<std::string> unpack(const std::filesystem::path& archive,
                                const std::filesystem::path& destination);

// True when `path` looks like an archive unpack() reads (by content, not by name).
bool is_archive(const std::filesystem::path& path);

} // namespace ksx::fetch

// The cache's "<sha256>.partial" file of a download in progress.
#pragma once

#include "util/sha256.hpp"
#include "util/unique_fd.hpp"

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

namespace ksx::fetch {

// Opened (created if missing) and locked with flock(), so two runs fetching the same file take
// turns instead of writing into each other; tracks the digest of what it holds.
class PartialDownload {
public:
    explicit PartialDownload(std::filesystem::path path);

    const std::filesystem::path& path() const { return path_; }
    std::uint64_t size() const { return size_; }
    // Hashes what an earlier, interrupted run left behind; new data continues after it.
    void rehash();
    // Drops the contents (the server cannot resume, or they were wrong).
    void restart();
    void append(std::string_view data);
    std::string sha256() const { return hash_.hex(); }
    // Syncs the file and renames it to `target`.
    void commit(const std::filesystem::path& target);
    // Deletes the file.
    void discard();

private:
    std::filesystem::path path_;
    UniqueFd fd_;
    std::uint64_t size_ = 0;
    Sha256Stream hash_;
};

} // namespace ksx::fetch

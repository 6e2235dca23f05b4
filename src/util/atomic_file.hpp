// A file that appears under its final name only when complete.
#pragma once

#include "util/unique_fd.hpp"

#include <filesystem>
#include <string_view>

namespace ksx {

// Writes go to a hidden temp file in the target's directory; commit() fsyncs it, renames it
// over the target and fsyncs the directory. Destroyed without commit(), the temp file is
// removed, so an interrupted run never leaves a half-written file under the final name. The temp
// file is flock'ed while it exists (owner_lock.hpp): one a killed run left can be told apart.
class AtomicFile {
public:
    explicit AtomicFile(std::filesystem::path target, unsigned mode = 0644);
    AtomicFile(AtomicFile&&) = default;
    AtomicFile& operator=(AtomicFile&&) = default;
    ~AtomicFile();

    int fd() const { return fd_.get(); }
    const std::filesystem::path& temp_path() const { return temp_; }
    const std::filesystem::path& target() const { return target_; }
    void write(std::string_view data);
    void commit();

private:
    std::filesystem::path target_;
    std::filesystem::path temp_;
    UniqueFd fd_;
    bool committed_ = false;
};

// Writes `data` to `target` atomically.
void write_file_atomic(const std::filesystem::path& target, std::string_view data,
                       unsigned mode = 0644);

// Renames an already complete file over `target` after fsyncing it (and the directory).
void commit_file(const std::filesystem::path& complete, const std::filesystem::path& target);

} // namespace ksx

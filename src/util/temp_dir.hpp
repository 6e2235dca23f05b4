// A directory removed with everything in it when its owner goes away. It is flock'ed while its
// owner lives (owner_lock.hpp), so one that a killed process left can be told apart.
#pragma once

#include "util/unique_fd.hpp"

#include <filesystem>
#include <string>

namespace ksx {

class TempDir {
public:
    // Creates `<parent>/<prefix>XXXXXX`; parent defaults to $TMPDIR or /tmp.
    explicit TempDir(const std::string& prefix, std::filesystem::path parent = {});
    TempDir(TempDir&& other) noexcept;
    TempDir& operator=(TempDir&&) = delete;
    TempDir(const TempDir&) = delete;
    ~TempDir();

    const std::filesystem::path& path() const { return path_; }
    // Keeps the directory on destruction (for logs a user should look at).
    void keep() { keep_ = true; }

private:
    std::filesystem::path path_;
    UniqueFd lock_; // held until the directory is removed
    bool keep_ = false;
};

} // namespace ksx

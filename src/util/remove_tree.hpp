// Removing a half-made root filesystem safely.
#pragma once

#include <filesystem>

namespace ksx {

// Removes `path` and everything below it without crossing into other mounted file systems (a
// failed debootstrap can leave /proc or /dev mounted inside), making read-only directories
// writable first (a rootfs has some, and extraction applies their modes). Best effort, for
// cleanup paths: returns false when something could not be removed.
bool remove_tree(const std::filesystem::path& path) noexcept;

// Owns a directory being built; removes it with remove_tree() unless released.
class PartialDir {
public:
    explicit PartialDir(std::filesystem::path path) : path_(std::move(path)) {}
    PartialDir(const PartialDir&) = delete;
    PartialDir& operator=(const PartialDir&) = delete;
    ~PartialDir() {
        if (!path_.empty()) {
            remove_tree(path_);
        }
    }
    const std::filesystem::path& path() const { return path_; }
    // The directory was renamed into place: nothing to clean up any more.
    void release() { path_.clear(); }

private:
    std::filesystem::path path_;
};

} // namespace ksx

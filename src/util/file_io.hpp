// Whole-file reads and small filesystem helpers.
#pragma once

#include <filesystem>
#include <functional>
#include <string>
#include <string_view>

namespace ksx {

// Reads a whole file; throws Error naming the path.
std::string read_file(const std::filesystem::path& path);

// Calls `chunk` with successive pieces of a file (up to 64 KiB each); throws Error naming the path.
void read_file_chunks(const std::filesystem::path& path,
                      const std::function<void(std::string_view)>& chunk);

// The same for an open file, read from its current offset to its end; errors name `shown`.
void read_fd_chunks(int fd, const std::string& shown,
                    const std::function<void(std::string_view)>& chunk);

// $XDG_CACHE_HOME/kmod-sysext, or ~/.cache/kmod-sysext.
std::filesystem::path cache_dir();

// True if `path`, made lexically normal, is strictly inside `root` (both absolute or both
// relative).
bool is_within(const std::filesystem::path& root, const std::filesystem::path& path);

} // namespace ksx

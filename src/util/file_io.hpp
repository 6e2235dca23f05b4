// Whole-file reads and small filesystem helpers.
#pragma once

#include <filesystem>
#include <string>

namespace ksx {

// Reads a whole file; throws Error naming the path.
std::string read_file(const std::filesystem::path& path);

// $XDG_CACHE_HOME/kmod-sysext, or ~/.cache/kmod-sysext.
std::filesystem::path cache_dir();

// True if `path`, made lexically normal, is strictly inside `root` (both absolute or both
// relative).
bool is_within(const std::filesystem::path& root, const std::filesystem::path& path);

} // namespace ksx

// Directories that appear under their final name only when complete.
#pragma once

#include <filesystem>
#include <functional>

namespace ksx {

// Creates "<destination>.partial-XXXXXX" beside `destination` (which must not exist), lets
// `fill` write into it, makes it mode 0755 and renames it to `destination`. When `fill` throws
// or the rename fails, the partial directory is removed.
void make_directory_atomically(const std::filesystem::path& destination,
                               const std::function<void(const std::filesystem::path&)>& fill);

} // namespace ksx

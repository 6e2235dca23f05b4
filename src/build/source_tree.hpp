// A kernel's own copy of a source tree (builds write objects next to the sources).
#pragma once

#include <filesystem>

namespace ksx::build {

// Copies the tree at `from` (a directory, or a link to one) to `to`, which must not exist.
// Symbolic links inside are copied as links, never followed: one that points out of the tree
// (at the host's /etc, say) is resolved inside the developer container when the build follows
// it, so no host file is ever read through it.
void copy_source_tree(const std::filesystem::path& from, const std::filesystem::path& to);

} // namespace ksx::build

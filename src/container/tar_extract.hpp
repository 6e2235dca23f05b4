// Safe extraction of a root filesystem tarball (libarchive).
#pragma once

#include <filesystem>

namespace ksx::container {

// Extracts `tarball` (any format and compression libarchive reads) into `destination`,
// refusing entries that would land outside it: `..` components, absolute paths, paths through
// symlinks, and hard links to targets outside. Throws InputError naming the tarball and entry.
// `destination` must not exist: entries go to "<destination>.partial-XXXXXX", renamed into place
// when all are in and removed otherwise. Device nodes are skipped (bubblewrap provides /dev);
// ownership is kept when running as root.
void extract_tarball(const std::filesystem::path& tarball,
                     const std::filesystem::path& destination);

} // namespace ksx::container

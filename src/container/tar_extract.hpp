// Safe extraction of root filesystem tarballs and OCI image layers (libarchive).
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace ksx::container {

// Extracts `tarball` (the formats and compressions fetch::unpack() reads) into `destination`,
// refusing entries that would land outside it: `..` components, absolute paths, paths through
// symlinks, and hard links to targets outside. Throws InputError naming the tarball and entry.
// `destination` must not exist: entries go to "<destination>.partial-XXXXXX", renamed into place
// when all are in and removed otherwise. Device nodes are skipped (bubblewrap provides /dev);
// ownership is kept when running as root.
void extract_tarball(const std::filesystem::path& tarball,
                     const std::filesystem::path& destination);

struct LayerFile {
    std::filesystem::path path; // the layer blob: tar, tar+gzip or tar+zstd
    std::string name;           // for messages: "layer 2 (sha256:...)"
};

// Applies OCI image layers, bottom first, into `destination` (which must not exist; built and
// renamed like extract_tarball). Entries are checked as in extract_tarball, except that a
// parent path through a symbolic link a lower layer made is resolved inside the root
// filesystem, as containerd does: nothing lands outside it. Whiteouts apply: `.wh.NAME`
// removes NAME, `.wh..wh..opq` empties its directory, both only of what lower layers left.
// A file replaces a directory of the same name and the other way round.
void extract_layers(const std::vector<LayerFile>& layers, const std::filesystem::path& destination);

} // namespace ksx::container

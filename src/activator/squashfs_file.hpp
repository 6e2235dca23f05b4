// Reading one small file out of a squashfs image, for `select` to see an image's
// extension-release before it links the image. The builder reads images with libsquashfs; the
// activator keeps to this reader (gzip, xz and zstd, what kmod-sysext writes) so that a node
// needs neither libsquashfs nor its other compressors.
#pragma once

#include <cstddef>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

namespace ksx::activator {

// The contents of the regular file at `path` ("usr/lib/...", relative to the image's root) in
// the squashfs `image`; nullopt when there is no such file. Throws Error when the image cannot
// be read, is not a squashfs 4.0 with gzip, xz or zstd, is malformed, or the file is larger
// than `max_size` bytes. Every offset is checked against the image: a crafted image gives an
// error, never a read outside it.
std::optional<std::string> read_squashfs_file(const std::filesystem::path& image,
                                              std::string_view path, std::size_t max_size);

} // namespace ksx::activator

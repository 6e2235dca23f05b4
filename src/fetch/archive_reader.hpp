// libarchive readers limited to the formats unpack() promises.
#pragma once

#include "util/unique_handle.hpp"

#include <archive.h>
#include <filesystem>
#include <string>

namespace ksx::fetch {

using ArchiveReader = UniqueHandle<archive, archive_read_free>;

// A reader for tar, zip, cpio and ar, compressed with gzip, bzip2, xz, lzma, zstd or lz4, or
// wrapped as .rpm. Only formats and filters handled inside libarchive: no "mtree" (its entries
// can name host files to read) and no external decompression programs.
ArchiveReader new_archive_reader();

// new_archive_reader() opened on `path`; throws InputError naming it.
ArchiveReader open_archive(const std::filesystem::path& path);

// The format family of what `reader` is reading (ARCHIVE_FORMAT_AR, ARCHIVE_FORMAT_TAR …).
int format_family(archive* reader);

} // namespace ksx::fetch

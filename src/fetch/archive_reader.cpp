#include "fetch/archive_reader.hpp"

#include "fetch/archive_error.hpp"
#include "util/error.hpp"

namespace ksx::fetch {

ArchiveReader new_archive_reader() {
    ArchiveReader reader(archive_read_new());
    if (!reader) {
        throw Error("out of memory creating a libarchive reader");
    }
    archive* a = reader.get();
    // A filter this libarchive was built without falls back to the external program and
    // reports ARCHIVE_WARN; Debian's build has all of these in the library.
    for (auto add : {archive_read_support_filter_gzip, archive_read_support_filter_bzip2,
                     archive_read_support_filter_xz, archive_read_support_filter_lzma,
                     archive_read_support_filter_zstd, archive_read_support_filter_lz4,
                     archive_read_support_filter_rpm, archive_read_support_format_tar,
                     archive_read_support_format_gnutar, archive_read_support_format_zip,
                     archive_read_support_format_cpio, archive_read_support_format_ar}) {
        if (add(a) == ARCHIVE_FATAL) {
            throw Error(std::string("failed to set up libarchive: ") + archive_problem(a));
        }
    }
    return reader;
}

ArchiveReader open_archive(const std::filesystem::path& path) {
    ArchiveReader reader = new_archive_reader();
    if (archive_read_open_filename(reader.get(), path.c_str(), 1 << 16) != ARCHIVE_OK) {
        throw InputError(path.string() + ": " + archive_problem(reader.get()));
    }
    return reader;
}

int format_family(archive* reader) {
    return archive_format(reader) & ARCHIVE_FORMAT_BASE_MASK;
}

} // namespace ksx::fetch

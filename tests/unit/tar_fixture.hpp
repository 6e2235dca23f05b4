// Tarballs with exactly the entries a test wants, hostile ones included (libarchive's writer
// does not sanitize names), and the trees extracted from them read back.
#pragma once

#include "util/unique_handle.hpp"

#include <algorithm>
#include <archive.h>
#include <archive_entry.h>
#include <doctest/doctest.h>
#include <filesystem>
#include <fstream>
#include <string>
#include <sys/stat.h>
#include <vector>

namespace ksx::test {

struct TarEntry {
    std::string path;
    unsigned type = AE_IFREG;
    unsigned mode = 0644;
    std::string data; // file contents
    std::string link; // symlink target, or hard link target when hard
    bool hard = false;
};

inline TarEntry file_entry(std::string path, std::string data, unsigned mode = 0644) {
    return {std::move(path), AE_IFREG, mode, std::move(data), {}, false};
}
inline TarEntry dir_entry(std::string path, unsigned mode = 0755) {
    return {std::move(path), AE_IFDIR, mode, {}, {}, false};
}
inline TarEntry symlink_entry(std::string path, std::string target) {
    return {std::move(path), AE_IFLNK, 0777, {}, std::move(target), false};
}
inline TarEntry hardlink_entry(std::string path, std::string target) {
    return {std::move(path), AE_IFREG, 0644, {}, std::move(target), true};
}

// The bytes of an archive with exactly these entries, in this order, in libarchive's `format`
// (archive_write_set_format_pax_restricted...) through `filter` (archive_write_add_filter_gzip...).
inline std::string make_archive(int (*format)(archive*), int (*filter)(archive*),
                                const std::vector<TarEntry>& entries) {
    using Writer = UniqueHandle<archive, archive_write_free>;
    using EntryHandle = UniqueHandle<archive_entry, archive_entry_free>;
    Writer writer(archive_write_new());
    REQUIRE(format(writer.get()) == ARCHIVE_OK);
    REQUIRE(filter(writer.get()) == ARCHIVE_OK);
    archive_write_set_bytes_in_last_block(writer.get(), 1);
    std::string buffer(16 << 20, '\0');
    size_t used = 0;
    REQUIRE(archive_write_open_memory(writer.get(), buffer.data(), buffer.size(), &used) ==
            ARCHIVE_OK);
    for (const auto& e : entries) {
        EntryHandle entry(archive_entry_new());
        archive_entry_set_pathname(entry.get(), e.path.c_str());
        archive_entry_set_mtime(entry.get(), 1700000000, 0);
        archive_entry_set_filetype(entry.get(), e.type);
        archive_entry_set_perm(entry.get(), e.mode);
        if (e.hard) {
            archive_entry_set_hardlink(entry.get(), e.link.c_str());
            archive_entry_set_size(entry.get(), 0);
        } else {
            if (e.type == AE_IFLNK) {
                archive_entry_set_symlink(entry.get(), e.link.c_str());
            }
            if (e.type == AE_IFCHR) {
                archive_entry_set_rdevmajor(entry.get(), 1);
                archive_entry_set_rdevminor(entry.get(), 3);
            }
            archive_entry_set_size(entry.get(), static_cast<la_int64_t>(e.data.size()));
        }
        REQUIRE(archive_write_header(writer.get(), entry.get()) == ARCHIVE_OK);
        if (!e.data.empty()) {
            REQUIRE(archive_write_data(writer.get(), e.data.data(), e.data.size()) ==
                    static_cast<la_ssize_t>(e.data.size()));
        }
    }
    REQUIRE(archive_write_close(writer.get()) == ARCHIVE_OK);
    buffer.resize(used);
    return buffer;
}

enum class TarCompression { None, Gzip, Zstd };

// Writes a pax tarball with exactly these entries, in this order.
inline void write_tarball(const std::filesystem::path& path, const std::vector<TarEntry>& entries,
                          TarCompression compression = TarCompression::None) {
    auto filter = compression == TarCompression::Gzip   ? archive_write_add_filter_gzip
                  : compression == TarCompression::Zstd ? archive_write_add_filter_zstd
                                                        : archive_write_add_filter_none;
    std::ofstream(path, std::ios::binary)
        << make_archive(archive_write_set_format_pax_restricted, filter, entries);
}

// Every path below `dir`, relative and sorted (symbolic links as names, not followed).
inline std::vector<std::string> listing(const std::filesystem::path& dir) {
    std::vector<std::string> out;
    for (const auto& e : std::filesystem::recursive_directory_iterator(dir)) {
        out.push_back(e.path().lexically_relative(dir).string());
    }
    std::sort(out.begin(), out.end());
    return out;
}

// The permission bits of `path` itself (not of a link's target).
inline unsigned mode_of(const std::filesystem::path& path) {
    struct stat st {};
    REQUIRE(::lstat(path.c_str(), &st) == 0);
    return st.st_mode & 07777;
}

// The message of the exception of type E that `call` throws; fails the test otherwise.
template <typename E, typename F> std::string failure(F call) {
    try {
        call();
    } catch (const E& e) {
        return e.what();
    } catch (const std::exception& e) {
        FAIL("unexpected exception: " << e.what());
    }
    FAIL("no exception");
    return {};
}

} // namespace ksx::test

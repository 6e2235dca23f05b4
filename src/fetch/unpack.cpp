#include "fetch/archive_error.hpp"
#include "fetch/archive_extract.hpp"
#include "fetch/fetch.hpp"
#include "util/error.hpp"
#include "util/temp_dir.hpp"

#include <archive_entry.h>
#include <cerrno>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>

namespace fs = std::filesystem;

namespace ksx::fetch {

namespace {

// Feeds a member of an outer archive (a .deb's data.tar.*) to a nested reader, without a copy.
la_ssize_t read_member(archive* nested, void* outer, const void** block) {
    size_t size = 0;
    la_int64_t offset = 0;
    int rc = archive_read_data_block(static_cast<archive*>(outer), block, &size, &offset);
    if (rc == ARCHIVE_EOF) {
        return 0;
    }
    if (rc < ARCHIVE_WARN) {
        archive_set_error(nested, EIO, "%s", archive_problem(static_cast<archive*>(outer)).c_str());
        return -1;
    }
    return static_cast<la_ssize_t>(size);
}

// Unpacks the data.tar member of a .deb (an ar archive whose first member is debian-binary).
void unpack_deb(archive* outer, const fs::path& path, ArchiveExtractor& unpacker) {
    archive_entry* entry = nullptr;
    for (;;) {
        int rc = archive_read_next_header(outer, &entry);
        if (rc == ARCHIVE_EOF) {
            throw InputError(path.string() + ": a .deb package without a data.tar member");
        }
        if (rc < ARCHIVE_WARN) {
            throw InputError(path.string() + ": " + archive_problem(outer));
        }
        const char* name = archive_entry_pathname(entry);
        if (name != nullptr && std::string_view(name).starts_with("data.tar")) {
            break;
        }
    }
    const std::string where = path.string() + ": " + archive_entry_pathname(entry);
    ArchiveReader nested = new_archive_reader();
    if (archive_read_open(nested.get(), outer, nullptr, read_member, nullptr) != ARCHIVE_OK) {
        throw InputError(where + ": " + archive_problem(nested.get()));
    }
    unpacker.write_entries(nested.get(), nullptr, where);
}

} // namespace

std::vector<std::string> unpack(const fs::path& archive_path, const fs::path& destination) {
    std::error_code ec;
    if (fs::symlink_status(destination, ec).type() != fs::file_type::not_found) {
        throw Error("cannot unpack " + archive_path.string() + " into " + destination.string() +
                    ": it already exists");
    }
    ArchiveReader reader = open_archive(archive_path);
    const fs::path parent = fs::absolute(destination).parent_path();
    fs::create_directories(parent);
    // Entries go to a sibling directory that only takes the final name when all are in.
    TempDir partial(destination.filename().string() + ".partial-", fs::canonical(parent));
    // Sources and package files: no fifos or sockets, directories writable by their owner,
    // owned by whoever unpacks them.
    ArchiveExtractor unpacker(partial.path(), ExtractRules{}, partial.path().string());
    archive_entry* first = nullptr;
    int rc = archive_read_next_header(reader.get(), &first);
    if (rc < ARCHIVE_WARN) {
        throw InputError(archive_path.string() + ": " + archive_problem(reader.get()));
    }
    if (rc != ARCHIVE_EOF) {
        const char* name = archive_entry_pathname(first);
        if (format_family(reader.get()) == ARCHIVE_FORMAT_AR && name != nullptr &&
            std::string_view(name) == "debian-binary") {
            unpack_deb(reader.get(), archive_path, unpacker);
        } else {
            unpacker.write_entries(reader.get(), first, archive_path.string());
        }
    }
    std::vector<std::string> files = unpacker.finish();
    // mkdtemp made it 0700; the unpacked tree's root is an ordinary directory.
    if (::chmod(partial.path().c_str(), 0755) != 0) {
        throw_errno("failed to set the mode of " + partial.path().string());
    }
    if (::renameat2(AT_FDCWD, partial.path().c_str(), AT_FDCWD, destination.c_str(),
                    RENAME_NOREPLACE) != 0) {
        throw_errno("failed to rename " + partial.path().string() + " to " + destination.string());
    }
    partial.keep();
    return files;
}

} // namespace ksx::fetch

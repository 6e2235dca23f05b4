#include "fetch/archive_reader.hpp"
#include "fetch/fetch.hpp"
#include "util/archive_error.hpp"
#include "util/archive_paths.hpp"
#include "util/error.hpp"
#include "util/temp_dir.hpp"

#include <archive_entry.h>
#include <cerrno>
#include <fcntl.h>
#include <set>
#include <stdio.h>
#include <sys/stat.h>

namespace fs = std::filesystem;

namespace ksx::fetch {

namespace {

using ArchiveWriter = UniqueHandle<archive, archive_write_free>;

// Writes the entries of one or more readers below `root` with the checks of the developer
// container's extraction: no "..", no absolute names, nothing through a symbolic link, hard
// links only to entries inside.
class Unpacker {
public:
    explicit Unpacker(fs::path root);

    // Writes every entry of `reader`, starting with `first` when it was already read. `where`
    // names the archive (and member) in errors.
    void write_entries(archive* reader, archive_entry* first, const std::string& where);
    // Applies the deferred directory modes and returns the regular files written.
    std::vector<std::string> finish();

private:
    void write_entry(archive* reader, archive_entry* entry, const std::string& where);
    void copy_data(archive* reader, const std::string& where, const std::string& entry);
    std::string inside(const char* name, const std::string& where, const std::string& entry,
                       const std::string& what) const;

    fs::path root_;
    ArchiveWriter writer_;
    std::set<std::string> files_;
};

[[noreturn]] void refuse(const std::string& where, const std::string& entry,
                         const std::string& why) {
    throw InputError(where + ": entry \"" + entry + "\": " + why);
}

Unpacker::Unpacker(fs::path root) : root_(std::move(root)), writer_(archive_write_disk_new()) {
    if (!writer_) {
        throw Error("out of memory creating a libarchive writer");
    }
    // Names are checked here and then made absolute under the canonical root, so
    // NOABSOLUTEPATHS cannot be used; inside() refuses absolute names itself. Ownership is not
    // restored: sources and package files belong to whoever unpacks them.
    archive_write_disk_set_options(
        writer_.get(), ARCHIVE_EXTRACT_SECURE_SYMLINKS | ARCHIVE_EXTRACT_SECURE_NODOTDOT |
                           ARCHIVE_EXTRACT_UNLINK | ARCHIVE_EXTRACT_TIME | ARCHIVE_EXTRACT_PERM);
}

std::string Unpacker::inside(const char* name, const std::string& where, const std::string& entry,
                             const std::string& what) const {
    ArchivePath path = archive_relative_path(name);
    if (!path.problem.empty()) {
        refuse(where, entry, what + path.problem);
    }
    std::string link = symlink_component(root_, path.relative);
    if (!link.empty()) {
        refuse(where, entry, what + "goes through symbolic link \"" + link + "\"");
    }
    return path.relative;
}

void Unpacker::copy_data(archive* reader, const std::string& where, const std::string& entry) {
    for (;;) {
        const void* block = nullptr;
        size_t size = 0;
        la_int64_t offset = 0;
        int rc = archive_read_data_block(reader, &block, &size, &offset);
        if (rc == ARCHIVE_EOF) {
            return;
        }
        if (rc < ARCHIVE_WARN) {
            refuse(where, entry, archive_problem(reader));
        }
        if (archive_write_data_block(writer_.get(), block, size, offset) < ARCHIVE_WARN) {
            throw Error(where + ": entry \"" + entry + "\": " + archive_problem(writer_.get()));
        }
    }
}

void Unpacker::write_entry(archive* reader, archive_entry* entry, const std::string& where) {
    const char* name = archive_entry_pathname(entry);
    if (name == nullptr) {
        throw InputError(where + ": an entry has no readable name");
    }
    const std::string shown = shown_entry_name(name);
    const std::string relative = inside(name, where, shown, "path ");
    // Device nodes, fifos and sockets mean nothing in a source tree or an image's /usr.
    auto type = archive_entry_filetype(entry);
    if (relative.empty() || type == AE_IFCHR || type == AE_IFBLK || type == AE_IFIFO ||
        type == AE_IFSOCK) {
        return;
    }
    if (type == AE_IFDIR) {
        // Always writable and searchable by us, so the tree can be copied and removed.
        archive_entry_set_perm(entry, archive_entry_perm(entry) | 0700);
    }
    archive_entry_set_pathname(entry, (root_ / relative).c_str());
    const char* target = archive_entry_hardlink(entry);
    if (target != nullptr) {
        std::string what = "hard link target \"" + shown_entry_name(target) + "\" ";
        std::string linked = inside(target, where, shown, what);
        if (linked.empty()) {
            refuse(where, shown, what + "is the root directory");
        }
        archive_entry_set_hardlink(entry, (root_ / linked).c_str());
    }
    if (archive_write_header(writer_.get(), entry) < ARCHIVE_WARN) {
        throw Error(where + ": entry \"" + shown + "\": " + archive_problem(writer_.get()));
    }
    if (archive_entry_size(entry) > 0) {
        copy_data(reader, where, shown);
    }
    if (archive_write_finish_entry(writer_.get()) < ARCHIVE_WARN) {
        throw Error(where + ": entry \"" + shown + "\": " + archive_problem(writer_.get()));
    }
    if (type == AE_IFREG || target != nullptr) {
        files_.insert(relative);
    }
}

void Unpacker::write_entries(archive* reader, archive_entry* first, const std::string& where) {
    archive_entry* entry = first;
    for (;;) {
        if (entry == nullptr) {
            int rc = archive_read_next_header(reader, &entry);
            if (rc == ARCHIVE_EOF) {
                return;
            }
            if (rc < ARCHIVE_WARN) {
                throw InputError(where + ": " + archive_problem(reader));
            }
        }
        write_entry(reader, entry, where);
        entry = nullptr;
    }
}

std::vector<std::string> Unpacker::finish() {
    if (archive_write_close(writer_.get()) != ARCHIVE_OK) {
        throw Error(root_.string() + ": " + archive_problem(writer_.get()));
    }
    // A later entry may have replaced a file with a link or a directory.
    std::vector<std::string> out;
    for (const auto& file : files_) {
        if (fs::symlink_status(root_ / file).type() == fs::file_type::regular) {
            out.push_back(file);
        }
    }
    return out;
}

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
void unpack_deb(archive* outer, const fs::path& path, Unpacker& unpacker) {
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
    Unpacker unpacker(partial.path());
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

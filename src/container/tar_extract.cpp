#include "container/tar_extract.hpp"

#include "container/remove_tree.hpp"
#include "util/archive_paths.hpp"
#include "util/error.hpp"
#include "util/unique_handle.hpp"

#include <archive.h>
#include <archive_entry.h>
#include <cstdlib>
#include <fcntl.h>
#include <stdio.h>
#include <string>
#include <sys/stat.h>
#include <unistd.h>

namespace fs = std::filesystem;

namespace ksx::container {

namespace {

using ArchiveReader = UniqueHandle<archive, archive_read_free>;
using ArchiveWriter = UniqueHandle<archive, archive_write_free>;

class Extraction {
public:
    Extraction(const fs::path& tarball, fs::path root)
        : tarball_(tarball), root_(std::move(root)) {}

    void run();

private:
    [[noreturn]] void refuse(const std::string& entry, const std::string& why) const {
        throw InputError(tarball_.string() + ": entry \"" + entry + "\": " + why);
    }
    // The entry's path relative to the root, without "." components; refuses ".." and "/".
    std::string relative_path(const char* name, const std::string& entry, const char* what) const;
    // Refuses a path whose existing leading components include a symbolic link.
    void check_no_symlink(const std::string& relative, const std::string& entry,
                          const std::string& what) const;
    void copy_data(archive* reader, archive* writer, const std::string& entry) const;

    fs::path tarball_;
    fs::path root_; // canonical: no symlinks, so libarchive's own checks see none above it
};

std::string Extraction::relative_path(const char* name, const std::string& entry,
                                      const char* what) const {
    ArchivePath path = archive_relative_path(name);
    if (!path.problem.empty()) {
        refuse(entry, what + path.problem);
    }
    return path.relative;
}

void Extraction::check_no_symlink(const std::string& relative, const std::string& entry,
                                  const std::string& what) const {
    std::string link = symlink_component(root_, relative);
    if (!link.empty()) {
        refuse(entry, what + "goes through symbolic link \"" + link + "\"");
    }
}

void Extraction::copy_data(archive* reader, archive* writer, const std::string& entry) const {
    for (;;) {
        const void* block = nullptr;
        size_t size = 0;
        la_int64_t offset = 0;
        int rc = archive_read_data_block(reader, &block, &size, &offset);
        if (rc == ARCHIVE_EOF) {
            return;
        }
        if (rc < ARCHIVE_WARN) {
            throw InputError(tarball_.string() + ": entry \"" + entry +
                             "\": " + archive_error_string(reader));
        }
        if (archive_write_data_block(writer, block, size, offset) < ARCHIVE_WARN) {
            throw Error(tarball_.string() + ": entry \"" + entry +
                        "\": " + archive_error_string(writer));
        }
    }
}

void Extraction::run() {
    ArchiveReader reader(archive_read_new());
    ArchiveWriter writer(archive_write_disk_new());
    if (!reader || !writer) {
        throw Error("out of memory creating libarchive handles");
    }
    archive_read_support_filter_all(reader.get());
    archive_read_support_format_all(reader.get());
    // Entry names are checked here and then made absolute under the canonical root, so
    // NOABSOLUTEPATHS cannot be used; the checks below refuse absolute names themselves.
    int flags = ARCHIVE_EXTRACT_SECURE_SYMLINKS | ARCHIVE_EXTRACT_SECURE_NODOTDOT |
                ARCHIVE_EXTRACT_UNLINK | ARCHIVE_EXTRACT_TIME | ARCHIVE_EXTRACT_PERM;
    if (::geteuid() == 0) {
        flags |= ARCHIVE_EXTRACT_OWNER; // a rootfs keeps its root-owned (and other) files
    }
    archive_write_disk_set_options(writer.get(), flags);
    archive_write_disk_set_standard_lookup(writer.get());

    if (archive_read_open_filename(reader.get(), tarball_.c_str(), 1 << 16) != ARCHIVE_OK) {
        throw InputError(tarball_.string() + ": " + archive_error_string(reader.get()));
    }
    for (;;) {
        archive_entry* entry = nullptr;
        int rc = archive_read_next_header(reader.get(), &entry);
        if (rc == ARCHIVE_EOF) {
            break;
        }
        if (rc < ARCHIVE_WARN) {
            throw InputError(tarball_.string() + ": " + archive_error_string(reader.get()));
        }
        const char* name = archive_entry_pathname(entry);
        if (name == nullptr) {
            throw InputError(tarball_.string() + ": an entry has no readable name");
        }
        const std::string shown = name;
        const std::string relative = relative_path(name, shown, "path ");
        check_no_symlink(relative, shown, "path ");
        // Device nodes are skipped: bubblewrap gives the container its own /dev.
        auto type = archive_entry_filetype(entry);
        if (relative.empty() || type == AE_IFCHR || type == AE_IFBLK) {
            continue;
        }
        archive_entry_set_pathname(entry, (root_ / relative).c_str());
        if (const char* target = archive_entry_hardlink(entry)) {
            std::string what = std::string("hard link target \"") + target + "\" ";
            std::string inside = relative_path(target, shown, what.c_str());
            if (inside.empty()) {
                refuse(shown, what + "is the root directory");
            }
            check_no_symlink(inside, shown, what);
            archive_entry_set_hardlink(entry, (root_ / inside).c_str());
        }
        if (archive_write_header(writer.get(), entry) < ARCHIVE_WARN) {
            throw Error(tarball_.string() + ": entry \"" + shown +
                        "\": " + archive_error_string(writer.get()));
        }
        if (archive_entry_size(entry) > 0) {
            copy_data(reader.get(), writer.get(), shown);
        }
        if (archive_write_finish_entry(writer.get()) < ARCHIVE_WARN) {
            throw Error(tarball_.string() + ": entry \"" + shown +
                        "\": " + archive_error_string(writer.get()));
        }
    }
    // Applies the deferred directory modes and times.
    if (archive_write_close(writer.get()) != ARCHIVE_OK) {
        throw Error(tarball_.string() + ": " + archive_error_string(writer.get()));
    }
}

} // namespace

void extract_tarball(const fs::path& tarball, const fs::path& destination) {
    std::error_code ec;
    if (fs::symlink_status(destination, ec).type() != fs::file_type::not_found) {
        throw Error("cannot extract " + tarball.string() + " into " + destination.string() +
                    ": it already exists");
    }
    const fs::path parent = fs::absolute(destination).parent_path();
    fs::create_directories(parent);
    std::string pattern =
        (fs::canonical(parent) / (destination.filename().string() + ".partial-XXXXXX")).string();
    if (::mkdtemp(pattern.data()) == nullptr) {
        throw_errno("failed to create a directory in " + parent.string());
    }
    PartialDir partial(pattern);
    Extraction(tarball, partial.path()).run();
    // mkdtemp made it 0700; a root directory is 0755 (the tarball's "./" entry is skipped).
    if (::chmod(partial.path().c_str(), 0755) != 0) {
        throw_errno("failed to set the mode of " + partial.path().string());
    }
    if (::renameat2(AT_FDCWD, partial.path().c_str(), AT_FDCWD, destination.c_str(),
                    RENAME_NOREPLACE) != 0) {
        throw_errno("failed to rename " + partial.path().string() + " to " + destination.string());
    }
    partial.release();
}

} // namespace ksx::container

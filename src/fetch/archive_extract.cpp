#include "fetch/archive_extract.hpp"

#include "fetch/archive_error.hpp"
#include "util/archive_paths.hpp"
#include "util/error.hpp"

#include <unistd.h>

namespace fs = std::filesystem;

namespace ksx::fetch {

namespace {

[[noreturn]] void refuse(const std::string& where, const std::string& entry,
                         const std::string& why) {
    throw InputError(where + ": entry \"" + entry + "\": " + why);
}

bool is_device(unsigned type) {
    return type == AE_IFCHR || type == AE_IFBLK;
}

bool is_fifo_or_socket(unsigned type) {
    return type == AE_IFIFO || type == AE_IFSOCK;
}

} // namespace

ArchiveExtractor::ArchiveExtractor(fs::path root, ExtractRules rules, std::string label,
                                   LayerHooks layer)
    : root_(std::move(root)), rules_(rules), label_(std::move(label)), layer_(std::move(layer)),
      writer_(archive_write_disk_new()) {
    if (!writer_) {
        throw Error("out of memory creating a libarchive writer");
    }
    // Names are checked here and then made absolute under the canonical root, so
    // NOABSOLUTEPATHS cannot be used; placed() refuses absolute names itself.
    int flags = ARCHIVE_EXTRACT_SECURE_SYMLINKS | ARCHIVE_EXTRACT_SECURE_NODOTDOT |
                ARCHIVE_EXTRACT_UNLINK | ARCHIVE_EXTRACT_TIME | ARCHIVE_EXTRACT_PERM;
    if (rules_.owners == Owners::ArchivedWhenRoot && ::geteuid() == 0) {
        flags |= ARCHIVE_EXTRACT_OWNER; // a rootfs keeps its root-owned (and other) files
    }
    archive_write_disk_set_options(writer_.get(), flags);
    if (rules_.owners == Owners::ArchivedWhenRoot) {
        archive_write_disk_set_standard_lookup(writer_.get());
    }
}

std::string ArchiveExtractor::placed(const char* name, const std::string& where,
                                     const std::string& shown, const std::string& what) const {
    ArchivePath path = archive_relative_path(name);
    if (!path.problem.empty()) {
        refuse(where, shown, what + path.problem);
    }
    if (layer_.resolve) {
        return layer_.resolve(path.relative);
    }
    std::string link = symlink_component(root_, path.relative);
    if (!link.empty()) {
        refuse(where, shown, what + "goes through symbolic link \"" + link + "\"");
    }
    return path.relative;
}

void ArchiveExtractor::copy_data(archive* reader, const std::string& where,
                                 const std::string& shown) {
    for (;;) {
        const void* block = nullptr;
        size_t size = 0;
        la_int64_t offset = 0;
        int rc = archive_read_data_block(reader, &block, &size, &offset);
        if (rc == ARCHIVE_EOF) {
            return;
        }
        if (rc < ARCHIVE_WARN) {
            refuse(where, shown, archive_problem(reader));
        }
        if (archive_write_data_block(writer_.get(), block, size, offset) < ARCHIVE_WARN) {
            throw Error(where + ": entry \"" + shown + "\": " + archive_problem(writer_.get()));
        }
    }
}

void ArchiveExtractor::write_entry(archive* reader, archive_entry* entry,
                                   const std::string& where) {
    const char* name = archive_entry_pathname(entry);
    if (name == nullptr) {
        throw InputError(where + ": an entry has no readable name");
    }
    const std::string shown = shown_entry_name(name);
    const std::string relative = placed(name, where, shown, "path ");
    if (layer_.whiteout && layer_.whiteout(relative, shown)) {
        return;
    }
    // Never a device node: bubblewrap gives a container its own /dev, and a source tree or an
    // image's /usr has no use for one.
    auto type = archive_entry_filetype(entry);
    if (relative.empty() || is_device(type) ||
        (rules_.special_files == SpecialFiles::Skip && is_fifo_or_socket(type))) {
        return;
    }
    if (layer_.before_write) {
        layer_.before_write(relative, type);
    }
    if (type == AE_IFDIR && rules_.directories == DirectoryModes::OwnerWritable) {
        archive_entry_set_perm(entry, archive_entry_perm(entry) | 0700);
    }
    archive_entry_set_pathname(entry, (root_ / relative).c_str());
    const char* target = archive_entry_hardlink(entry);
    if (target != nullptr) {
        std::string what = "hard link target \"" + shown_entry_name(target) + "\" ";
        std::string linked = placed(target, where, shown, what);
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
    if (rules_.files == FileList::Listed && (type == AE_IFREG || target != nullptr)) {
        files_.insert(relative);
    }
}

void ArchiveExtractor::write_entries(archive* reader, archive_entry* first,
                                     const std::string& where) {
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

std::vector<std::string> ArchiveExtractor::finish() {
    if (archive_write_close(writer_.get()) != ARCHIVE_OK) {
        throw Error(label_ + ": " + archive_problem(writer_.get()));
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

void extract_archive(const fs::path& path, const fs::path& root, const std::string& label,
                     ExtractRules rules, LayerHooks layer) {
    ArchiveReader reader = new_archive_reader();
    if (archive_read_open_filename(reader.get(), path.c_str(), 1 << 16) != ARCHIVE_OK) {
        throw InputError(label + ": " + archive_problem(reader.get()));
    }
    ArchiveExtractor extractor(root, rules, label, std::move(layer));
    extractor.write_entries(reader.get(), nullptr, label);
    extractor.finish();
}

} // namespace ksx::fetch

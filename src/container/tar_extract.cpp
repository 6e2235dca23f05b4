#include "container/tar_extract.hpp"

#include "container/layer_whiteouts.hpp"
#include "container/rootfs_path.hpp"
#include "util/archive_error.hpp"
#include "util/archive_paths.hpp"
#include "util/atomic_dir.hpp"
#include "util/error.hpp"
#include "util/remove_tree.hpp"
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

constexpr std::string_view kWhiteout = ".wh.";
constexpr std::string_view kOpaque = ".wh..wh..opq";

class Extraction {
public:
    // `whiteouts` set: the archive is an OCI layer applied over what `root` holds.
    Extraction(const fs::path& tarball, std::string name, fs::path root,
               LayerWhiteouts* whiteouts = nullptr)
        : tarball_(tarball), name_(std::move(name)), root_(std::move(root)), whiteouts_(whiteouts) {
    }

    void run();

private:
    [[noreturn]] void refuse(const std::string& entry, const std::string& why) const {
        throw InputError(name_ + ": entry \"" + entry + "\": " + why);
    }
    // Where an entry goes, relative to the root: for a layer, its parent resolved through the
    // root's symbolic links (inside the root); otherwise as written, refused through a link.
    std::string placed(const char* name, const std::string& entry, const char* what) const;
    // A whiteout entry of a layer: applied, and true; false for any other entry.
    bool apply_whiteout(const std::string& relative, const std::string& entry) const;
    // Before a layer's entry is written: a different kind of file in its place goes.
    void replace_existing(const std::string& relative, unsigned type) const;
    // The entry's path relative to the root, without "." components; refuses ".." and "/".
    std::string relative_path(const char* name, const std::string& entry, const char* what) const;
    // Refuses a path whose existing leading components include a symbolic link.
    void check_no_symlink(const std::string& relative, const std::string& entry,
                          const std::string& what) const;
    void copy_data(archive* reader, archive* writer, const std::string& entry) const;

    fs::path tarball_;
    std::string name_; // for messages
    fs::path root_;    // canonical: no symlinks, so libarchive's own checks see none above it
    LayerWhiteouts* whiteouts_;
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

std::string Extraction::placed(const char* name, const std::string& entry, const char* what) const {
    std::string relative = relative_path(name, entry, what);
    if (whiteouts_ == nullptr) {
        check_no_symlink(relative, entry, what);
        return relative;
    }
    auto slash = relative.rfind('/');
    if (slash == std::string::npos) {
        return relative;
    }
    // host_path() follows links as the container would: absolute targets start at the root
    // and ".." stops there.
    auto parent = host_path(root_, "/" + relative.substr(0, slash)).lexically_relative(root_);
    auto base = relative.substr(slash + 1);
    return parent == "." ? base : (parent / base).string();
}

bool Extraction::apply_whiteout(const std::string& relative, const std::string& entry) const {
    auto slash = relative.rfind('/');
    std::string parent = slash == std::string::npos ? "" : relative.substr(0, slash);
    std::string base = slash == std::string::npos ? relative : relative.substr(slash + 1);
    if (!base.starts_with(kWhiteout)) {
        return false;
    }
    if (base == kOpaque) {
        whiteouts_->make_opaque(parent);
        return true;
    }
    if (base.starts_with(".wh..wh.")) {
        return true; // other AUFS metadata (hard link directories): not part of the tree
    }
    std::string hidden = base.substr(kWhiteout.size());
    if (hidden.empty() || hidden == "." || hidden == "..") {
        refuse(entry, "is a whiteout of \"" + hidden + "\"");
    }
    whiteouts_->remove_lower(parent.empty() ? hidden : parent + "/" + hidden);
    return true;
}

void Extraction::replace_existing(const std::string& relative, unsigned type) const {
    struct stat st {};
    const fs::path path = root_ / relative;
    if (::lstat(path.c_str(), &st) != 0) {
        return;
    }
    // A directory stays for a directory entry (its contents merge); anything else is replaced.
    if (S_ISDIR(st.st_mode) && (type == AE_IFDIR || relative.empty())) {
        return;
    }
    if (S_ISDIR(st.st_mode) && !remove_tree(path)) {
        throw Error(name_ + ": failed to remove " + path.string() + " replaced by a layer entry");
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
            throw InputError(name_ + ": entry \"" + entry + "\": " + archive_problem(reader));
        }
        if (archive_write_data_block(writer, block, size, offset) < ARCHIVE_WARN) {
            throw Error(name_ + ": entry \"" + entry + "\": " + archive_problem(writer));
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
        throw InputError(name_ + ": " + archive_problem(reader.get()));
    }
    for (;;) {
        archive_entry* entry = nullptr;
        int rc = archive_read_next_header(reader.get(), &entry);
        if (rc == ARCHIVE_EOF) {
            break;
        }
        if (rc < ARCHIVE_WARN) {
            throw InputError(name_ + ": " + archive_problem(reader.get()));
        }
        const char* name = archive_entry_pathname(entry);
        if (name == nullptr) {
            throw InputError(name_ + ": an entry has no readable name");
        }
        const std::string shown = shown_entry_name(name);
        const std::string relative = placed(name, shown, "path ");
        if (whiteouts_ != nullptr && apply_whiteout(relative, shown)) {
            continue;
        }
        // Device nodes are skipped: bubblewrap gives the container its own /dev.
        auto type = archive_entry_filetype(entry);
        if (relative.empty() || type == AE_IFCHR || type == AE_IFBLK) {
            continue;
        }
        if (whiteouts_ != nullptr) {
            replace_existing(relative, type);
            whiteouts_->wrote(relative);
        }
        archive_entry_set_pathname(entry, (root_ / relative).c_str());
        if (const char* target = archive_entry_hardlink(entry)) {
            std::string what = "hard link target \"" + shown_entry_name(target) + "\" ";
            std::string inside = placed(target, shown, what.c_str());
            if (inside.empty()) {
                refuse(shown, what + "is the root directory");
            }
            archive_entry_set_hardlink(entry, (root_ / inside).c_str());
        }
        if (archive_write_header(writer.get(), entry) < ARCHIVE_WARN) {
            throw Error(name_ + ": entry \"" + shown + "\": " + archive_problem(writer.get()));
        }
        if (archive_entry_size(entry) > 0) {
            copy_data(reader.get(), writer.get(), shown);
        }
        if (archive_write_finish_entry(writer.get()) < ARCHIVE_WARN) {
            throw Error(name_ + ": entry \"" + shown + "\": " + archive_problem(writer.get()));
        }
    }
    // Applies the deferred directory modes and times.
    if (archive_write_close(writer.get()) != ARCHIVE_OK) {
        throw Error(name_ + ": " + archive_problem(writer.get()));
    }
}

} // namespace

void extract_tarball(const fs::path& tarball, const fs::path& destination) {
    make_directory_atomically(destination, [&](const fs::path& root) {
        Extraction(tarball, tarball.string(), root).run();
    });
}

void extract_layers(const std::vector<LayerFile>& layers, const fs::path& destination) {
    make_directory_atomically(destination, [&](const fs::path& root) {
        LayerWhiteouts whiteouts(root);
        for (const auto& layer : layers) {
            whiteouts.next_layer();
            Extraction(layer.path, layer.name, root, &whiteouts).run();
        }
    });
}

} // namespace ksx::container

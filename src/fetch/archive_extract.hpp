// The one writer of archive entries to disk (libarchive), shared by fetch's unpack() (sources,
// .debs, .rpms) and the developer container's tarballs and OCI layers. Every entry goes through
// the same checks: its name must stay below the root (no "..", no absolute name, no component
// longer than 255 bytes or name longer than 4095, refused by name), nothing is written through a
// symbolic link (or, for a layer, through a link resolved inside the root), a hard link's target
// obeys the same rules and is not the root, and device nodes are never made.
#pragma once

#include "fetch/archive_reader.hpp"

#include <archive_entry.h>
#include <filesystem>
#include <functional>
#include <set>
#include <string>
#include <vector>

namespace ksx::fetch {

// Fifos and sockets: nothing in a source tree or an image's /usr; a root filesystem keeps them.
enum class SpecialFiles { Skip, Keep };
// Directories as archived, or always writable and searchable by their owner (so that a tree
// unpacked from a read-only archive can be copied and removed).
enum class DirectoryModes { AsArchived, OwnerWritable };
// Owners as the archive says when running as root (a root filesystem), or whoever unpacks.
enum class Owners { Unpacker, ArchivedWhenRoot };
// Whether finish() lists the regular files written (a source's files), or not (a rootfs).
enum class FileList { Listed, Unlisted };

struct ExtractRules {
    SpecialFiles special_files = SpecialFiles::Skip;
    DirectoryModes directories = DirectoryModes::OwnerWritable;
    Owners owners = Owners::Unpacker;
    FileList files = FileList::Listed;
};

using ArchiveWriter = UniqueHandle<archive, archive_write_free>;

// Where a layer's entries go, and what they do to the layers below: the container's OCI layers
// set these; without them an entry is written as named and any symbolic link on its way refused.
struct LayerHooks {
    // The checked relative path with its parent resolved through the root's symbolic links
    // (inside the root).
    std::function<std::string(const std::string& relative)> resolve;
    // True when the entry is a whiteout and was applied (it is then not written).
    std::function<bool(const std::string& relative, const std::string& shown)> whiteout;
    // Called before an entry of `type` (AE_IF*) is written at `relative`.
    std::function<void(const std::string& relative, unsigned type)> before_write;
};

class ArchiveExtractor {
public:
    // Writes below `root` (canonical: no symbolic links, so libarchive's own checks see none
    // above it). `label` names the extraction in errors of the final close.
    ArchiveExtractor(std::filesystem::path root, ExtractRules rules, std::string label,
                     LayerHooks layer = {});

    // Writes every entry of `reader`, starting with `first` when it was already read. `where`
    // names the archive (and member) in errors: "WHERE: entry \"NAME\": why" (InputError for
    // what the archive holds, Error for what the disk refuses).
    void write_entries(archive* reader, archive_entry* first, const std::string& where);

    // Applies the deferred directory modes and times; returns the relative paths of the regular
    // files (and hard links) written that are still regular files (none for FileList::Unlisted).
    std::vector<std::string> finish();

private:
    void write_entry(archive* reader, archive_entry* entry, const std::string& where);
    std::string placed(const char* name, const std::string& where, const std::string& shown,
                       const std::string& what) const;
    void copy_data(archive* reader, const std::string& where, const std::string& shown);

    std::filesystem::path root_;
    ExtractRules rules_;
    std::string label_;
    LayerHooks layer_;
    ArchiveWriter writer_;
    std::set<std::string> files_;
};

// Opens `path` with new_archive_reader() and writes all its entries below `root` as
// ArchiveExtractor does; `label` names the archive in errors.
void extract_archive(const std::filesystem::path& path, const std::filesystem::path& root,
                     const std::string& label, ExtractRules rules, LayerHooks layer = {});

} // namespace ksx::fetch

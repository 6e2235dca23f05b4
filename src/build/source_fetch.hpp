// Turning a manifest source into a directory tree on the host.
#pragma once

#include "container/container.hpp"
#include "manifest/manifest.hpp"
#include "util/progress.hpp"

#include <filesystem>
#include <string>

namespace ksx::build {

struct FetchContext {
    const container::Rootfs* rootfs = nullptr;
    std::filesystem::path cache_dir; // downloads and .debs are cached here
    std::filesystem::path log;       // commands and their output
    Progress& progress = Progress::quiet();
};

// A source's tree on the host, and where a dkms.conf was looked for in it (for messages:
// "usr/dkms.conf or usr/src/*/dkms.conf in the unpacked foo-dkms_1.0_all.deb").
struct SourceTree {
    std::filesystem::path dir;
    std::string dkms_conf_looked_at;
};

// The host directory holding `source`'s tree: a `path:` as is; an `apt:` package or a
// `url:` download unpacked under `scratch` (created), then narrowed as `locate_tree` does (an
// archive that `subdir` names is unpacked in turn).
SourceTree fetch_source(const manifest::SourceSpec& source, const FetchContext& context,
                        const std::filesystem::path& scratch);

// The tree of `source` inside `unpacked`, what `origin` ("the unpacked foo_1.0_all.deb")
// unpacked to: `subdir` when set; else the lone top-level directory, or, when that has no
// dkms.conf and `dkms` is not false, the one usr/src/*/ that has (a DKMS package ships its tree
// in usr/src/<name>-<version>/ beside its docs). Several such trees are an InputError listing
// them and naming `subdir`.
SourceTree locate_tree(const manifest::SourceSpec& source, const std::filesystem::path& unpacked,
                       const std::string& origin);

// The one entry under `root` matching the shell pattern `pattern` component by component
// ("usr/src/zfs-*"); throws InputError naming `field` when none or several match.
std::filesystem::path match_subdir(const std::filesystem::path& root, const std::string& pattern,
                                   const std::string& field);

// Descends while `dir` holds exactly one entry and that is a directory.
std::filesystem::path lone_directory(std::filesystem::path dir);

} // namespace ksx::build

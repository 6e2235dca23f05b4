// Turning a manifest source into a directory tree on the host.
#pragma once

#include "container/container.hpp"
#include "manifest/manifest.hpp"
#include "util/progress.hpp"

#include <filesystem>

namespace ksx::build {

struct FetchContext {
    const container::Rootfs* rootfs = nullptr;
    std::filesystem::path cache_dir; // downloads and .debs are cached here
    std::filesystem::path log;       // commands and their output
    Progress* progress = nullptr;
};

// The host directory holding `source`'s tree: a `path:` as is; an `apt:` package or a
// `url:` download unpacked under `scratch` (created), then narrowed to `subdir` (an archive
// there is unpacked in turn) and into a lone top-level directory.
std::filesystem::path fetch_source(const manifest::SourceSpec& source, const FetchContext& context,
                                   const std::filesystem::path& scratch);

// The one entry under `root` matching the shell pattern `pattern` component by component
// ("usr/src/zfs-*"); throws InputError naming `field` when none or several match.
std::filesystem::path match_subdir(const std::filesystem::path& root, const std::string& pattern,
                                   const std::string& field);

// Descends while `dir` holds exactly one entry and that is a directory.
std::filesystem::path lone_directory(std::filesystem::path dir);

} // namespace ksx::build

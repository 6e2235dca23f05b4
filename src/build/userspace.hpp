// Userspace packages (.deb, .rpm) laid out for an image: files under /usr and /opt as they are,
// files elsewhere moved by the manifest's `relocate:` rules or left out, and reported.
#pragma once

#include "manifest/manifest.hpp"

#include <filesystem>
#include <string>
#include <vector>

namespace ksx::build {

struct StagedPackage {
    std::filesystem::path root;         // holds usr/... and opt/..., ready for the image
    std::vector<std::string> relocated; // "/lib/udev/x -> /usr/lib/udev/x"
    std::vector<std::string> left_out;  // "/etc/default/zfs": outside /usr and /opt, no rule
};

// Where `path` (absolute, inside the package) goes in the image: moved by the rule with the
// longest matching `from`, else itself when under /usr or /opt, else "" (left out).
std::string image_path(const std::string& path, const std::vector<manifest::RelocateRule>& rules);

// Unpacks `archive` into `scratch` (created) and lays its files out under `scratch`/root.
// Throws Error when two files of the package land on the same path.
StagedPackage stage_package(const std::filesystem::path& archive,
                            const std::vector<manifest::RelocateRule>& rules,
                            const std::filesystem::path& scratch);

} // namespace ksx::build

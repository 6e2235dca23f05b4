// Paths written in a manifest: relative ones are resolved against the manifest's directory, and
// every one must stay inside it (or inside a directory the command line allows).
#pragma once

#include "manifest/yaml_value.hpp"

#include <filesystem>
#include <string>
#include <vector>

namespace ksx::manifest::detail {

// Where a manifest's local paths may lead: the manifest's directory and the `--allow-path`
// directories. A path is inside when it is, after every symbolic link on it is followed: a
// link in a checkout that points at the host's files is caught like a "../..".
class PathRoots {
public:
    PathRoots(std::filesystem::path base, const std::vector<std::filesystem::path>& allowed);

    // The manifest's directory: relative paths are resolved against it.
    const std::filesystem::path& base() const { return base_; }

    // Throws at `value`, which wrote `text`, unless `path` (its resolved form) is inside.
    void check(const Value& value, const std::string& text,
               const std::filesystem::path& path) const;

private:
    std::filesystem::path base_;
    std::vector<std::filesystem::path> lexical_; // the roots as given, absolute and normal
    std::vector<std::filesystem::path> real_;    // the roots with their symbolic links followed
};

// `base / text`, lexically normal, without a trailing '/'.
std::filesystem::path resolve_path(const std::filesystem::path& base, const std::string& text);

// The value as a path inside `roots` that must exist with type `type` (a directory or a
// regular file).
std::filesystem::path existing_path(const Value& value, const PathRoots& roots,
                                    std::filesystem::file_type type);

// The value as a path inside `roots` that need not exist yet (a key read only by a build).
std::filesystem::path contained_path(const Value& value, const PathRoots& roots);

} // namespace ksx::manifest::detail

// Paths written in a manifest: relative ones are resolved against the manifest's directory.
#pragma once

#include "manifest/yaml_value.hpp"

#include <filesystem>
#include <string>

namespace ksx::manifest::detail {

// `base / text`, lexically normal, without a trailing '/'.
std::filesystem::path resolve_path(const std::filesystem::path& base, const std::string& text);

// The value as a path that must exist with type `type` (a directory or a regular file).
std::filesystem::path existing_path(const Value& value, const std::filesystem::path& base,
                                    std::filesystem::file_type type);

} // namespace ksx::manifest::detail

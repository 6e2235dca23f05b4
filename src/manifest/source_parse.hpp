// Reading the source and package parts of a manifest: `source:`/`sources:`, `patches:`,
// `packages:` and `relocate:`.
#pragma once

#include "manifest/manifest.hpp"
#include "manifest/path_value.hpp"

#include <filesystem>
#include <vector>

namespace ksx::manifest::detail {

// `source:` (one map) or `sources:` (a non-empty list of maps, each may have `kernels:`).
std::vector<SourceSpec> read_source_entry(const Value& value, const PathRoots& base);
std::vector<SourceSpec> read_source_list(const Value& value, const PathRoots& base);

// `patches:`: items are a path, or a map with `file:` and `kernels:`.
std::vector<PatchSpec> read_patches(const Value& value, const PathRoots& base);

// `packages:`: maps with `apt:` (+ `version:`, `release:`) or `url:` + `sha256:`.
std::vector<PackageSpec> read_packages(const Value& value);

// A version (`version:`, `image_version:`): letters, digits and ".+~-", starting with a letter or
// digit.
std::string read_version(const Value& value);

// `relocate:`: maps with `from:` (an absolute path, not `/`, `/usr` or `/opt` itself) and `to:`
// (under /usr or /opt).
std::vector<RelocateRule> read_relocate(const Value& value);

// `kernels:` of a source, patch or package: a map with `match:`, `min:` and/or `max:`.
KernelSelector read_selector(const Value& value);

} // namespace ksx::manifest::detail

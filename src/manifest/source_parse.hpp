// Reading the source and package parts of a manifest: `source:`/`sources:`, `patches:`,
// `packages:` and `relocate:`.
#pragma once

#include "manifest/manifest.hpp"
#include "manifest/path_value.hpp"

#include <filesystem>
#include <vector>

namespace ksx::manifest::detail {

// The values of every `targets:` name met while reading, checked once all targets are known.
using TargetRefs = std::vector<Value>;

// `source:` (one map) or `sources:` (a non-empty list of maps, each may have `kernels:` and
// `targets:`, or be `unsupported:` instead of a source).
std::vector<SourceSpec> read_source_entry(const Value& value, const PathRoots& base,
                                          TargetRefs& refs);
std::vector<SourceSpec> read_source_list(const Value& value, const PathRoots& base,
                                         TargetRefs& refs);

// `patches:`: items are a path, or a map with `file:`, `kernels:` and `targets:`.
std::vector<PatchSpec> read_patches(const Value& value, const PathRoots& base, TargetRefs& refs);

// `packages:`: maps with `apt:` (+ `version:`, `release:`) or `url:` + `sha256:`, and
// optionally `kernels:` and `targets:`.
std::vector<PackageSpec> read_packages(const Value& value, TargetRefs& refs);

// `targets:` of an entry: a non-empty list of target names without repeats; each is added to
// `refs`.
std::vector<std::string> read_target_names(const Value& value, TargetRefs& refs);

// A target's name: letters, digits and "._-", starting with a letter, digit or '_', at most
// 64 characters.
bool is_target_name(std::string_view text);

// A version (`version:`, `image_version:`): letters, digits and ".+~-", starting with a letter or
// digit.
std::string read_version(const Value& value);

// A suite (`release:` of a package, `suite:` of a kernel): lower-case letters, digits and '-'.
std::string read_suite_name(const Value& value);

// `relocate:`: maps with `from:` (an absolute path, not `/`, `/usr` or `/opt` itself) and `to:`
// (under /usr or /opt).
std::vector<RelocateRule> read_relocate(const Value& value);

// `kernels:` of a source, patch or package: a map with `match:`, `min:` and/or `max:`.
KernelSelector read_selector(const Value& value);

} // namespace ksx::manifest::detail

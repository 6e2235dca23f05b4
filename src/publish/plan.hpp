// The build matrix of a manifest: one entry per kernel, so CI can build each on its own runner.
#pragma once

#include "manifest/manifest.hpp"

#include <string>
#include <string_view>
#include <vector>

namespace ksx::publish {

// One shard of a build. A `package:` kernel is not resolved here (that needs the developer
// container): the entry names the spec, and `build --only` resolves it when it builds.
struct PlanEntry {
    std::string id;     // the kernel spec as a name: [A-Za-z0-9._-]+
    std::string kernel; // as `build --kernel` takes it: "6.1.0-28-amd64", "package:NAME"
    // sha256 over the manifest text and the kernel spec. Files the manifest points at (local
    // sources, patches) and what a `package:` resolves to are not in it.
    std::string cache_key;
};

// The entries of `manifest`, whose file text is `manifest_text`, sorted by id; duplicate
// specs appear once. Throws InputError when two specs map to the same id.
std::vector<PlanEntry> plan(const manifest::Manifest& manifest, std::string_view manifest_text);

// The `--kernel` form of a spec ("package:NAME" or the release).
std::string kernel_argument(const manifest::KernelSpec& spec);

// The entry called `id`; InputError naming the ids there are otherwise.
const PlanEntry& find_entry(const std::vector<PlanEntry>& entries, std::string_view id);

// {"name", "version", "include": [{"entry", "kernel", "cache_key"}...]}, two-space indent.
std::string plan_json(const manifest::Manifest& manifest, const std::vector<PlanEntry>& entries);

// `matrix=<compact JSON {"include": [...]}>`, a line for $GITHUB_OUTPUT; the workflow reads it
// with fromJSON() as strategy.matrix.
std::string plan_github(const std::vector<PlanEntry>& entries);

// A GitLab child pipeline job `kmod-sysext-build` extending `.kmod-sysext-build` with one
// parallel:matrix item per entry (KSX_ENTRY, KSX_KERNEL, KSX_CACHE_KEY).
std::string plan_gitlab(const std::vector<PlanEntry>& entries);

} // namespace ksx::publish

// The build matrix of a manifest: one entry per kernel, so CI can build each on its own runner.
#pragma once

#include "manifest/manifest.hpp"

#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace ksx::publish {

// One shard of a build. The entry names the kernel spec, and `build --only` resolves a
// `package:` kernel when it builds; `plan --resolve` resolves it ahead, for the cache key.
struct PlanEntry {
    std::string id;      // the kernel spec as a name: [A-Za-z0-9._-]+
    std::string kernel;  // as `build --kernel` takes it: "6.1.0-28-amd64", "package:NAME[/SUITE]"
    std::string release; // the kernel release; "" for a `package:` kernel not resolved
    // sha256 over kmod-sysext's version, the manifest text, its local inputs, the kernel spec
    // and the release.
    std::string cache_key;
};

// What the cache keys cover besides each entry's kernel.
struct PlanInputs {
    std::string manifest_text;
    std::string local_inputs;                    // local_inputs() of the manifest
    std::map<std::string, std::string> releases; // kernel argument -> release (plan --resolve)
};

// The entries of `manifest`, sorted by id; duplicate specs appear once. Throws InputError when
// two specs map to the same id.
std::vector<PlanEntry> plan(const manifest::Manifest& manifest, const PlanInputs& inputs);

// The `--kernel` form of a spec ("package:NAME", "package:NAME/SUITE" or the release).
std::string kernel_argument(const manifest::KernelSpec& spec);

// The entry called `id`; InputError naming the ids there are otherwise.
const PlanEntry& find_entry(const std::vector<PlanEntry>& entries, std::string_view id);

// {"name", "version", "include": [{"entry", "kernel", "release", "cache_key"}...]}, two-space
// indent; "release" is null when unknown.
std::string plan_json(const manifest::Manifest& manifest, const std::vector<PlanEntry>& entries);

// `matrix=<compact JSON {"include": [...]}>`, a line for $GITHUB_OUTPUT; the workflow reads it
// with fromJSON() as strategy.matrix.
std::string plan_github(const std::vector<PlanEntry>& entries);

// A GitLab child pipeline job `kmod-sysext-build` extending `.kmod-sysext-build` with one
// parallel:matrix item per entry (KSX_ENTRY, KSX_KERNEL, KSX_RELEASE, "" when unknown, and
// KSX_CACHE_KEY).
std::string plan_gitlab(const std::vector<PlanEntry>& entries);

} // namespace ksx::publish

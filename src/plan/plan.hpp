// The build matrix of a manifest: one entry per target and kernel, so CI can build each on its
// own runner.
#pragma once

#include "manifest/manifest.hpp"

#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace ksx::plan {

// One shard of a build. The entry names the kernel spec, and `build --only` resolves a
// `package:` kernel when it builds; `plan --resolve` resolves it ahead, for the cache key.
struct PlanEntry {
    // The kernel spec as a name, [A-Za-z0-9._-]+; with `targets:`, "<target>_<kernel spec>".
    std::string id;
    std::string target; // the target's name; "" for a manifest without `targets:`
    // as `build --kernel` takes it: "6.1.0-28-amd64", "package:NAME[/SUITE]"
    std::string kernel;
    std::string release; // the kernel release; "" for a `package:` kernel not resolved
    // sha256 over kmod-sysext's version, the manifest text, its local inputs, the kernel spec
    // and the release (and the target's name, with `targets:`).
    std::string cache_key;
    // The `unsupported:` reason of the source entry that selects the release, when the release
    // is known: the build would skip it, so the matrix leaves it out.
    std::string skipped;
};

// What the cache keys cover besides each entry's kernel.
struct PlanInputs {
    std::string manifest_text;
    std::string local_inputs; // local_inputs() of the manifest
    // release_key(target, kernel argument) -> release (plan --resolve)
    std::map<std::string, std::string> releases;
};

// The key of PlanInputs::releases for a target's kernel argument.
std::string release_key(const std::string& target, const std::string& kernel);

// The cache key of one entry (PlanEntry::cache_key): `target` is the target's name ("" without
// `targets:`), `kernel` the spec as kernel_argument() gives it, `release` "" when unknown.
std::string entry_cache_key(const manifest::Manifest& manifest, const PlanInputs& inputs,
                            const std::string& target, const std::string& kernel,
                            const std::string& release);

// The entries of `manifest`, one per target and kernel spec, sorted by id; duplicate specs of a
// target appear once. Throws InputError when two specs map to the same id, or when two entries
// whose releases are known would make images of the same file name (naming both).
std::vector<PlanEntry> plan(const manifest::Manifest& manifest, const PlanInputs& inputs);

// The `--kernel` form of a spec ("package:NAME", "package:NAME/SUITE" or the release).
std::string kernel_argument(const manifest::KernelSpec& spec);

// The spec a `--kernel` argument names (kernel_argument()'s inverse); InputError when it is
// neither a release nor package:NAME[/SUITE].
manifest::KernelSpec kernel_from_argument(const std::string& argument);

// The entry called `id`; InputError naming the ids there are otherwise.
const PlanEntry& find_entry(const std::vector<PlanEntry>& entries, std::string_view id);

// {"name", "version", "include": [{"entry", "kernel", "release", "cache_key"}...]}, two-space
// indent; "release" is null when unknown; with `targets:` each entry has "target" after
// "entry". Entries the build would skip (`unsupported:`) are not in "include" but in
// "skipped": [{"entry", ("target",) "kernel", "release", "reason"}], present only then.
std::string plan_json(const manifest::Manifest& manifest, const std::vector<PlanEntry>& entries);

// The entries the build would skip, as "plan: skipped ENTRY: kernel K (target T): REASON".
std::vector<std::string> skipped_lines(const std::vector<PlanEntry>& entries);

// `matrix=<compact JSON {"include": [...]}>` (without skipped entries), a line for $GITHUB_OUTPUT;
// the workflow reads it with fromJSON() as strategy.matrix.
std::string plan_github(const std::vector<PlanEntry>& entries);

// A GitLab child pipeline job `kmod-sysext-build` extending `.kmod-sysext-build` with one
// parallel:matrix item per entry not skipped (KSX_ENTRY, KSX_TARGET with `targets:`,
// KSX_KERNEL, KSX_RELEASE, "" when unknown, and KSX_CACHE_KEY).
std::string plan_gitlab(const std::vector<PlanEntry>& entries);

} // namespace ksx::plan

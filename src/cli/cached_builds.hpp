// The build cache as `build` uses it (build/build_cache.hpp): each kernel's key, its image set
// restored and committed on a hit, stored after a build that misses.
#pragma once

#include "build/build_cache.hpp"
#include "cli/build_signing.hpp"
#include "container/container.hpp"
#include "manifest/manifest.hpp"
#include "publish/plan.hpp"
#include "util/output_dir.hpp"
#include "util/progress.hpp"

#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace ksx::cli {

class CachedBuilds {
public:
    // `manifest` as loaded (all targets); `sign_cert` is --sign-cert or "". With `lookup`
    // false (--no-cache) nothing is restored, but builds are still stored.
    CachedBuilds(const manifest::Manifest& manifest, const std::filesystem::path& cache,
                 const BuildSigners& signers, const std::string& sign_cert, bool lookup);

    // The key of one kernel of `target` (the kernel spec as `--kernel` takes it, resolved to
    // `release` in `rootfs`).
    std::string key(const manifest::Manifest& target, const container::Rootfs& rootfs,
                    const std::string& kernel, const std::string& release) const;

    // On a hit, commits the stored set into `output` (its sidecars a set of this name had
    // before and the entry has not are removed) and returns what `--json` reports of it.
    std::optional<nlohmann::json> restore(const std::string& key, const std::string& image_name,
                                          OutputDir& output);

    // Stores the staged set `files` (in `staging`) of a kernel that built; a failure is only
    // a warning on `progress`.
    void store(const std::string& key, const std::filesystem::path& staging,
               const std::vector<std::string>& files, const nlohmann::json& record,
               Progress& progress);

private:
    const manifest::Manifest& manifest_;
    publish::PlanInputs plan_inputs_;
    std::vector<std::string> certs_;
    build::BuildCache cache_;
    bool lookup_;
};

} // namespace ksx::cli

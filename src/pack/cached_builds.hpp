// The build cache as `build` uses it (build/build_cache.hpp): each kernel's key, its image set
// restored and committed on a hit, stored after a build that misses.
#pragma once

#include "build/build_cache.hpp"
#include "container/container.hpp"
#include "manifest/manifest.hpp"
#include "pack/build_signing.hpp"
#include "pack/image_record.hpp"
#include "plan/plan.hpp"
#include "util/output_dir.hpp"
#include "util/progress.hpp"

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace ksx::pack {

class CachedBuilds {
public:
    // `manifest` as loaded (all targets); `sign_cert` is --sign-cert or "". With `lookup`
    // false (--no-cache) nothing is restored, but builds are still stored.
    CachedBuilds(const manifest::Manifest& manifest, const std::filesystem::path& cache,
                 const BuildSigners& signers, const std::string& sign_cert, bool lookup);

    // The key of one kernel of `target` (the kernel spec as `--kernel` takes it, resolved to
    // `release` in `rootfs`). With `userspace: shared` it covers no part of the manifest that
    // only the shared image holds (plan/part_inputs.hpp).
    std::string key(const manifest::Manifest& target, const container::Rootfs& rootfs,
                    const std::string& kernel, const std::string& release) const;

    // The key of `target`'s shared userspace image of `version`, made of `packages` (the
    // fields of the packages chosen for its kernels, "packages[2]") in `rootfs`: no kernel's
    // build, sources or kernel list is part of it.
    std::string userspace_key(const manifest::Manifest& target, const container::Rootfs& rootfs,
                              const std::string& version,
                              const std::vector<std::string>& packages) const;

    // On a hit, commits the stored set into `output` (its sidecars a set of this name had
    // before and the entry has not are removed) and returns its record.
    std::optional<ImageRecord> restore(const std::string& key, const std::string& image_name,
                                       OutputDir& output);

    // Stores the staged set `files` (in `staging`) of a kernel that built, or of a shared
    // image; a failure is only a warning on `progress`.
    void store(const std::string& key, const std::filesystem::path& staging,
               const std::vector<std::string>& files, const ImageRecord& record,
               Progress& progress);

private:
    build::BuildKeyInputs common_inputs(const container::Rootfs& rootfs) const;

    const manifest::Manifest& manifest_;
    plan::PlanInputs modules_inputs_;   // what the kernels' images depend on
    plan::PlanInputs userspace_inputs_; // what a shared image depends on (`userspace: shared`)
    std::vector<std::string> certs_;
    std::uint32_t timestamp_ = 0;
    build::BuildCache cache_;
    bool lookup_;
};

} // namespace ksx::pack

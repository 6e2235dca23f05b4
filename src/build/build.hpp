// Compiling the manifest's modules for each kernel inside the developer container.
#pragma once

#include "build/command_runner.hpp"
#include "build/compiler_cache.hpp"
#include "build/kernel_failure.hpp"
#include "container/container.hpp"
#include "manifest/manifest.hpp"
#include "util/progress.hpp"

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace ksx::build {

struct BuiltModule {
    std::string name;
    std::filesystem::path file;              // stripped .ko in the kernel's work dir
    std::string vermagic;                    // from modinfo
    std::vector<std::string> depends;        // every dependency modinfo names
    std::vector<std::string> kernel_depends; // the ones not shipped in this image
    std::string options;
    bool load = true;
};

struct KernelBuild {
    std::string kernel_release;
    // The version its image carries: the `image_version` of the source chosen for the kernel,
    // else the manifest's `version`. Decided once, with the source.
    std::string image_version;
    std::vector<BuiltModule> modules; // dependency order: a module after what it depends on
    std::filesystem::path log;        // the build log
    std::filesystem::path work_dir;
    std::string skipped; // set: no source or dkms.conf supports this kernel; no image, and why
    std::optional<KernelFailure> failure;         // set: the build failed, no image
    std::vector<std::filesystem::path> userspace; // package trees (usr/, opt/) for the image
    CompilerCacheStats compiler_cache;            // what ccache did for this kernel
};

struct BuildOptions {
    std::filesystem::path work_root = {}; // one sub directory per kernel
    unsigned jobs = 1;                    // kernels built at the same time
    unsigned make_jobs = 1;               // JOBS passed to each build
    std::uint32_t source_date_epoch = 0;  // SOURCE_DATE_EPOCH and KBUILD_BUILD_TIMESTAMP inside
    Progress& progress = Progress::quiet();
    std::filesystem::path cache_dir = {}; // downloads and apt's .debs; empty: cache_dir()
    // ccache's directory, bound into the container; empty (or a container without ccache):
    // compilers run as they are.
    std::filesystem::path compiler_cache_dir = {};
    // Called with each kernel's result (built, skipped or failed) as soon as it is done, from
    // the thread that built it, so its image can be packed while the next kernel compiles.
    std::function<void(const KernelBuild&)> on_kernel_done = {};
    // Runs the patches, build commands, dkms steps and strip in the container; never null.
    CommandRunner* runner = &container_runner();
};

// Builds every kernel. A kernel that fails does not stop the others: its entry has `failure`
// set (the kernel, its log and why), so the caller can still pack the ones that built.
std::vector<KernelBuild> build_kernels(const manifest::Manifest& manifest,
                                       const container::Rootfs& rootfs,
                                       const std::vector<std::string>& kernel_releases,
                                       const BuildOptions& options);

// Orders modules so each comes after the shipped modules it depends on (stable otherwise);
// throws Error on a dependency cycle.
std::vector<BuiltModule> dependency_order(std::vector<BuiltModule> modules);

} // namespace ksx::build

// Sources and userspace packages fetched once per run and shared by every kernel's build.
#pragma once

#include "build/source_fetch.hpp"
#include "build/userspace.hpp"
#include "container/container.hpp"
#include "manifest/manifest.hpp"
#include "util/progress.hpp"

#include <exception>
#include <filesystem>
#include <map>
#include <mutex>

namespace ksx::build {

class SourceCache {
public:
    // Downloads are cached under `cache_dir`; unpacked trees live under `scratch_root`.
    SourceCache(const container::Rootfs& rootfs, std::filesystem::path cache_dir,
                std::filesystem::path scratch_root, Progress& progress);

    // `source`'s tree on the host; fetched on first use (commands logged to `log`).
    // A failure is remembered and thrown again for every kernel that needs the source.
    SourceTree source(const manifest::SourceSpec& source, const std::filesystem::path& log);

    // `package` fetched and laid out by `rules`; its report goes to `log` on first use.
    const StagedPackage& package(const manifest::PackageSpec& package,
                                 const std::vector<manifest::RelocateRule>& rules,
                                 const std::filesystem::path& log);

private:
    const container::Rootfs& rootfs_;
    std::filesystem::path cache_dir_;
    std::filesystem::path scratch_root_;
    Progress& progress_;
    std::mutex mutex_;
    std::map<const void*, SourceTree> sources_;
    std::map<const void*, StagedPackage> packages_;
    std::map<const void*, std::exception_ptr> failures_;
};

} // namespace ksx::build

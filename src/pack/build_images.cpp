#include "pack/build_images.hpp"

#include "build/build.hpp"
#include "build/compiler_cache.hpp"
#include "build/source_cache.hpp"
#include "build/source_select.hpp"
#include "container/container.hpp"
#include "manifest/image_version.hpp"
#include "pack/build_signing.hpp"
#include "pack/cached_builds.hpp"
#include "pack/image_packer.hpp"
#include "pack/layout.hpp"
#include "plan/plan.hpp"
#include "util/cache.hpp"
#include "util/error.hpp"
#include "util/file_io.hpp"
#include "util/output_dir.hpp"
#include "util/temp_dir.hpp"

#include <algorithm>
#include <cstdlib>
#include <fmt/core.h>
#include <map>
#include <optional>
#include <thread>

namespace ksx::pack {

namespace fs = std::filesystem;

namespace {

// KSX_BUILD_CACHE=off does what --no-cache does; KSX_COMPILER_CACHE=off runs the compilers
// without ccache, KSX_COMPILER_CACHE=DIR puts ccache's directory there instead of the cache's.
bool build_cache_off() {
    const char* value = std::getenv("KSX_BUILD_CACHE");
    std::string text = value == nullptr ? "" : value;
    if (text != "" && text != "on" && text != "off") {
        throw InputError("KSX_BUILD_CACHE: \"" + text + "\" is neither on nor off");
    }
    return text == "off";
}

fs::path compiler_cache_for(const fs::path& cache, const container::Rootfs& rootfs) {
    const char* value = std::getenv("KSX_COMPILER_CACHE");
    std::string text = value == nullptr ? "" : value;
    if (text == "off") {
        return {};
    }
    return text.empty() || text == "on" ? build::compiler_cache_dir(cache, rootfs)
                                        : fs::absolute(text);
}

// One target's part of a run: its narrowed manifest, container and kernel releases.
struct TargetJob {
    manifest::Manifest manifest; // with_target(): its identity, kernels and container
    container::Rootfs rootfs;
    std::vector<std::string> releases;
    std::vector<std::string> kernels; // each release's kernel spec, as `--kernel` takes it
    // Each release's image file name, known before building: for the name clash check and the
    // build cache. The build carries the same version on its result (KernelBuild).
    std::vector<std::string> image_files;
};

// The targets a run builds, each narrowed to the kernels `--only` or `--kernel` name.
std::vector<manifest::Manifest> targets_to_build(const manifest::Manifest& manifest,
                                                 const BuildRequest& request) {
    std::vector<size_t> chosen;
    for (const auto& name : request.targets) {
        auto index = manifest::find_target(manifest, name, "--target");
        if (std::find(chosen.begin(), chosen.end(), index) == chosen.end()) {
            chosen.push_back(index);
        }
    }
    std::string only_kernel;
    if (!request.only.empty()) {
        // One shard of `plan`: its target and kernel spec, resolved in the container like any
        // other.
        auto entry = plan::find_entry(plan::plan(manifest, {}), request.only);
        chosen = {entry.target.empty() ? 0
                                       : manifest::find_target(manifest, entry.target, "--only")};
        only_kernel = entry.kernel;
    }
    if (chosen.empty()) {
        for (size_t i = 0; i < manifest.targets.size(); ++i) {
            chosen.push_back(i);
        }
    }
    if (!request.kernels.empty() && chosen.size() != 1) {
        throw InputError("--kernel: " + manifest.file.filename().string() + " has " +
                         std::to_string(chosen.size()) +
                         " targets: name the one to build for with --target");
    }
    std::vector<manifest::Manifest> narrowed;
    for (auto index : chosen) {
        auto target = manifest::with_target(manifest, index);
        if (!only_kernel.empty()) {
            std::erase_if(target.kernels, [&](const manifest::KernelSpec& k) {
                return plan::kernel_argument(k) != only_kernel;
            });
            target.kernels.resize(1);
        }
        if (!request.kernels.empty()) {
            target.kernels.clear();
            for (const auto& k : request.kernels) {
                target.kernels.push_back(plan::kernel_from_argument(k));
            }
        }
        narrowed.push_back(std::move(target));
    }
    return narrowed;
}

// "kernel K", and " (target T)" for a manifest with `targets:`.
std::string kernel_label(const manifest::Manifest& target, const std::string& release) {
    return "kernel " + release +
           (target.target_list ? " (target " + target.target_name + ")" : std::string());
}

// The line for an image set committed from the build cache.
void report_hit(Progress& progress, const ImageRecord& record, const std::string& key) {
    progress.line(fmt::format("{} (build cache {}, sha256 {})", record.path.string(),
                              key.substr(0, 16), record.sha256));
}

// `userspace: shared`: each image version of the job's kernels that gets a shared image, with the
// first kernel of that version. Every kernel of a version must choose the same packages (the
// one image holds them): InputError otherwise.
std::map<std::string, std::string> userspace_versions(const TargetJob& job) {
    std::map<std::string, std::string> first; // version -> release
    for (const auto& release : job.releases) {
        auto choice = build::choose(job.manifest, release);
        if (choice.source == nullptr || !manifest::has_shared_userspace(job.manifest, release)) {
            continue; // no image, or no userspace to share
        }
        auto [it, inserted] = first.emplace(choice.image_version, release);
        if (!inserted && build::choose(job.manifest, it->second).packages != choice.packages) {
            throw InputError(job.manifest.file.filename().string() +
                             ": userspace: shared: " + kernel_label(job.manifest, it->second) +
                             " and " + kernel_label(job.manifest, release) +
                             " have image version " + choice.image_version +
                             " but not the same packages (give them distinct image versions)");
        }
    }
    return first;
}

// Each shared image of the job: committed from the build cache on a hit, else its packages
// fetched (their reports in `work_root`/userspace/userspace.log), the image written and stored.
std::vector<ImageRecord> pack_userspace_images(const TargetJob& job, PackContext& context,
                                               CachedBuilds& cached, const fs::path& cache,
                                               const fs::path& work_root) {
    std::vector<ImageRecord> images;
    const auto dir = work_root / "userspace";
    const auto log = dir / "userspace.log";
    std::optional<build::SourceCache> sources; // made for the first image to fetch
    for (const auto& [version, release] : userspace_versions(job)) {
        const auto chosen = build::choose(job.manifest, release).packages;
        std::vector<std::string> fields;
        for (const auto* package : chosen) {
            fields.push_back(package->field);
        }
        const auto key = cached.userspace_key(job.manifest, job.rootfs, version, fields);
        const auto name = userspace_image_file_name(job.manifest, version);
        if (auto record = cached.restore(key, name, context.output)) {
            report_hit(context.progress, *record, key);
            images.push_back(std::move(*record));
            continue;
        }
        if (!sources) {
            fs::create_directories(dir);
            sources.emplace(job.rootfs, cache, dir / "fetched", context.progress);
        }
        std::vector<fs::path> packages;
        for (const auto* package : chosen) {
            context.progress.step("package " + package->field);
            packages.push_back(sources->package(*package, job.manifest.relocate, log).root);
        }
        context.on_staged = [&](const std::string&, const std::vector<std::string>& files,
                                const ImageRecord& staged) {
            cached.store(key, context.output.staging(), files, staged, context.progress);
        };
        images.push_back(
            pack_userspace(version, packages, context, std::make_shared<image::BlockCache>()));
        context.on_staged = {};
    }
    return images;
}

// Two targets' kernels whose images would get the same file name: refused before building.
void check_image_names(const std::vector<TargetJob>& jobs) {
    std::map<std::string, std::string> made_by; // image file name -> kernel label
    for (const auto& job : jobs) {
        for (size_t i = 0; i < job.releases.size(); ++i) {
            const auto& release = job.releases[i];
            const auto& file = job.image_files[i];
            const auto* source = manifest::source_for(job.manifest, release);
            if (source != nullptr && source->kind == manifest::SourceSpec::Kind::Unsupported) {
                continue; // no image
            }
            auto label = kernel_label(job.manifest, release);
            auto [it, inserted] = made_by.emplace(file, label);
            if (!inserted) {
                throw InputError(job.manifest.file.filename().string() + ": " + it->second +
                                 " and " + label + " would both make the image " + file);
            }
        }
        for (const auto& [version, release] : userspace_versions(job)) {
            auto file = userspace_image_file_name(job.manifest, version);
            auto label = "the shared image of " + kernel_label(job.manifest, release);
            auto [it, inserted] = made_by.emplace(file, label);
            if (!inserted) {
                throw InputError(job.manifest.file.filename().string() + ": " + it->second +
                                 " and " + label + " would both make the image " + file +
                                 " (give the targets distinct image versions)");
            }
        }
    }
}

std::string describe_all(const std::vector<build::KernelFailure>& failures) {
    std::string text;
    for (const auto& failure : failures) {
        text += (text.empty() ? "" : "\n") + build::describe(failure);
    }
    return text;
}

} // namespace

KernelFailures::KernelFailures(std::vector<build::KernelFailure> failures)
    : std::runtime_error(describe_all(failures)), failures_(std::move(failures)) {}

bool KernelFailures::input() const {
    return std::all_of(failures_.begin(), failures_.end(),
                       [](const build::KernelFailure& failure) { return failure.input; });
}

BuiltImages build_images(const manifest::Manifest& manifest, const BuildRequest& request,
                         Progress& progress) {
    auto targets = targets_to_build(manifest, request);

    // Keys first: a wrong key should not cost a container and a build.
    auto signers = load_build_signers(manifest, request.sign_key, request.sign_cert, progress);
    require_ddi_signer(manifest, signers);

    // Settled first: sets a killed run was committing are completed, its leftovers removed.
    OutputDir output(fs::absolute(request.output));
    const auto cache = cache_dir();
    fs::create_directories(cache);
    // Held for the run: `cache prune` leaves containers and downloads alone while it is.
    auto cache_use = use_cache(cache);
    remove_leftovers(cache);

    // Each target's own container, holding only its kernels' headers.
    container::PrepareOptions prepare_options{cache, request.refresh, progress};
    std::vector<TargetJob> jobs;
    for (auto& target : targets) {
        Progress::Scope container_time(progress, Phase::Container);
        progress.step(manifest.target_list ? "container for " + target.target_name + ": preparing"
                                           : std::string("container: preparing"));
        auto rootfs = container::prepare(target.container, target.kernels, prepare_options);
        mark_used(cache, rootfs.root);
        std::vector<std::string> releases;
        std::vector<std::string> kernel_args;
        for (const auto& kernel : target.kernels) {
            auto release = container::resolve_kernel(rootfs, kernel);
            if (std::find(releases.begin(), releases.end(), release) == releases.end()) {
                releases.push_back(release);
                kernel_args.push_back(plan::kernel_argument(kernel));
            }
        }
        std::vector<std::string> image_files;
        for (const auto& release : releases) {
            image_files.push_back(
                image_file_name(target, manifest::image_version(target, release), release));
        }
        jobs.push_back({std::move(target), std::move(rootfs), std::move(releases),
                        std::move(kernel_args), std::move(image_files)});
    }
    check_image_names(jobs);
    const bool no_cache = request.no_cache || build_cache_off();
    CachedBuilds cached(manifest, cache, signers, request.sign_cert, !no_cache);

    auto work = make_work_dir(cache, manifest.name);
    unsigned cores = std::max(1u, std::thread::hardware_concurrency());
    // Reported together once every kernel that built has its image.
    std::vector<build::KernelFailure> failures;
    BuiltImages result;
    for (const auto& job : jobs) {
        const auto& target = job.manifest;
        // Kernels whose image set the build cache holds are committed from there: no
        // container, no compiler.
        std::map<std::string, std::string> keys; // release -> build cache key
        std::vector<ImageRecord> restored;
        std::vector<std::string> to_build;
        for (size_t i = 0; i < job.releases.size(); ++i) {
            const auto& release = job.releases[i];
            const auto key = cached.key(target, job.rootfs, job.kernels[i], release);
            keys[release] = key;
            if (auto record = cached.restore(key, job.image_files[i], output)) {
                report_hit(progress, *record, key);
                restored.push_back(std::move(*record));
                ++result.cache_hits;
            } else {
                to_build.push_back(release);
            }
        }
        const auto work_root = target.target_list ? work.path() / target.target_name : work.path();
        // `userspace: shared`: the target's shared images first, so a package that cannot be
        // fetched fails the run before any compiler runs.
        std::vector<ImageRecord> userspace;
        if (target.userspace == manifest::Userspace::Shared) {
            const auto image_options = write_options(target, cores);
            PackContext context{target, job.rootfs,    signers, output,
                                cores,  image_options, progress};
            try {
                userspace = pack_userspace_images(job, context, cached, cache, work_root);
            } catch (const Error&) {
                keep_work_dir(work); // userspace/userspace.log has the packages' reports
                throw;
            }
            for (const auto& image : userspace) {
                result.cache_hits += image.build_cache == CacheUse::Hit ? 1 : 0;
            }
        }
        auto add_images = [&](std::vector<ImageRecord>& packed) {
            // In the order of the kernels, whatever order they finished in.
            for (const auto& release : job.releases) {
                for (auto* list : {&packed, &restored}) {
                    for (auto& image : *list) {
                        if (image.kernel != release) {
                            continue;
                        }
                        if (image.build_cache != CacheUse::Hit) {
                            image.build_cache = no_cache ? CacheUse::Off : CacheUse::Miss;
                        }
                        if (target.target_list) {
                            image.target = target.target_name;
                        }
                        result.images.push_back(image);
                    }
                }
            }
            for (auto& image : userspace) {
                if (image.build_cache != CacheUse::Hit) {
                    image.build_cache = no_cache ? CacheUse::Off : CacheUse::Miss;
                }
                if (target.target_list) {
                    image.target = target.target_name;
                }
                result.images.push_back(image);
            }
        };
        if (to_build.empty()) {
            std::vector<ImageRecord> none;
            add_images(none);
            continue;
        }
        progress.line("building " + target.name + " " + target.version + " for " +
                      std::to_string(to_build.size()) + " kernel(s)" +
                      (target.target_list ? " of target " + target.target_name : "") + " in " +
                      job.rootfs.description);
        build::BuildOptions build_options{.progress = progress};
        build_options.work_root = work_root;
        build_options.jobs = std::max(1u, request.jobs);
        build_options.make_jobs = std::max(1u, cores / build_options.jobs);
        build_options.compiler_cache_dir = compiler_cache_for(cache, job.rootfs);
        if (!build_options.compiler_cache_dir.empty()) {
            fs::create_directories(build_options.compiler_cache_dir);
            mark_used(cache, build_options.compiler_cache_dir);
        }
        // The builds see the images' time stamp, so that same inputs give the same modules.
        const auto image_options = write_options(target, cores);
        build_options.source_date_epoch = image_options.mtime;
        // Each kernel's image is packed on the packer's thread as soon as the kernel has built,
        // while the next one compiles.
        PackContext pack_context{target, job.rootfs,    signers, output,
                                 cores,  image_options, progress};
        pack_context.on_staged = [&](const std::string& release,
                                     const std::vector<std::string>& files,
                                     const ImageRecord& record) {
            cached.store(keys.at(release), output.staging(), files, record, progress);
        };
        ImagePacker packer(pack_context);
        build_options.on_kernel_done = [&](const build::KernelBuild& kernel_build) {
            if (!kernel_build.failure && kernel_build.skipped.empty()) {
                packer.add(kernel_build);
            }
        };
        std::vector<build::KernelBuild> builds;
        try {
            builds = build::build_kernels(target, job.rootfs, to_build, build_options);
        } catch (const Error&) {
            keep_work_dir(work); // the logs named in the message live there
            throw;
        }
        auto packed = packer.finish();
        // A failed kernel fails the run, but only after the kernels that built have their
        // images.
        for (const auto& kernel_build : builds) {
            if (kernel_build.failure) {
                failures.push_back(*kernel_build.failure);
            } else if (!kernel_build.skipped.empty()) {
                progress.line(kernel_build.skipped); // not supported by the sources: no image
            }
        }
        failures.insert(failures.end(), packed.failures.begin(), packed.failures.end());
        if (packed.reused_bytes >= 1024 * 1024) {
            progress.line(fmt::format(
                "reused {} compressed block(s) ({:.1f} MiB of data) between images",
                packed.reused_blocks, static_cast<double>(packed.reused_bytes) / 1048576.0));
        }
        add_images(packed.images);
    }
    progress.summary();
    if (!failures.empty()) {
        keep_work_dir(work); // the logs named in the message live there
        throw KernelFailures(std::move(failures));
    }
    if (request.keep_work) {
        keep_work_dir(work);
        progress.line("work directory kept: " + work.path().string());
    }
    return result;
}

} // namespace ksx::pack

// `kmod-sysext build MANIFEST`: container -> build per kernel -> one image per kernel.
#include "build/build.hpp"
#include "build/compiler_cache.hpp"
#include "cli/build_signing.hpp"
#include "cli/cached_builds.hpp"
#include "cli/commands.hpp"
#include "cli/image_packer.hpp"
#include "cli/manifest_paths.hpp"
#include "container/container.hpp"
#include "image/sysext_layout.hpp"
#include "manifest/image_version.hpp"
#include "manifest/manifest.hpp"
#include "publish/plan.hpp"
#include "util/cache.hpp"
#include "util/error.hpp"
#include "util/file_io.hpp"
#include "util/output_dir.hpp"
#include "util/progress.hpp"
#include "util/temp_dir.hpp"

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fmt/core.h>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <thread>

namespace ksx::cli {

namespace fs = std::filesystem;

namespace {

struct BuildArgs {
    std::string manifest;
    std::string output = "out";
    unsigned jobs = 1;
    std::vector<std::string> kernels;
    std::vector<std::string> targets; // target names; empty: every target
    std::string only;                 // a plan entry id
    bool refresh = false;
    bool keep_work = false;
    bool no_cache = false; // rebuild every kernel (the builds are still stored)
    std::string sign_key;  // overrides the manifest's signing keys, with sign_cert
    std::string sign_cert;
    std::vector<std::string> allowed_paths; // --allow-path
    std::string events;                     // --events: a file, or "-" for stderr
};

// Where --events writes the JSON progress events: the file (created or truncated), or stderr.
std::unique_ptr<std::FILE, int (*)(std::FILE*)> open_events(const std::string& path) {
    auto keep_open = [](std::FILE*) { return 0; };
    if (path.empty()) {
        return {nullptr, keep_open};
    }
    if (path == "-") {
        return {stderr, keep_open};
    }
    std::FILE* file = std::fopen(path.c_str(), "we");
    if (file == nullptr) {
        throw Error("--events: cannot create " + path + ": " + std::strerror(errno));
    }
    return {file, &std::fclose};
}

// `--kernel 6.1.0-28-amd64` or `--kernel package:linux-headers-amd64`.
manifest::KernelSpec kernel_from_argument(const std::string& argument) {
    manifest::KernelSpec spec;
    spec.where.file = "--kernel";
    if (argument.starts_with("package:")) {
        spec.kind = manifest::KernelSpec::Kind::DebianPackage;
        spec.value = argument.substr(8);
        if (auto slash = spec.value.find('/'); slash != std::string::npos) {
            spec.suite = spec.value.substr(slash + 1);
            spec.value.resize(slash);
            if (spec.suite.empty() || spec.suite.find('/') != std::string::npos) {
                spec.value.clear(); // reported below
            }
        }
    } else {
        spec.value = argument;
    }
    if (spec.value.empty() || spec.value.find('/') != std::string::npos) {
        throw InputError("--kernel: \"" + argument +
                         "\" is not a kernel release, package:NAME or package:NAME/SUITE");
    }
    return spec;
}

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

double seconds_since(std::chrono::steady_clock::time_point start) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// {"container": 12.3, "fetch": 0.4, ...}: seconds per phase, for --json.
nlohmann::json phases_json(const std::array<double, kPhaseCount>& seconds) {
    nlohmann::json phases = nlohmann::json::object();
    for (size_t i = 0; i < kPhaseCount; ++i) {
        phases[std::string(phase_name(static_cast<Phase>(i)))] = seconds[i];
    }
    return phases;
}

// One target's part of a run: its narrowed manifest, container and kernel releases.
struct TargetJob {
    manifest::Manifest manifest; // with_target(): its identity, kernels and container
    container::Rootfs rootfs;
    std::vector<std::string> releases;
    std::vector<std::string> kernels; // each release's kernel spec, as `--kernel` takes it
};

// The targets a run builds, each narrowed to the kernels `--only` or `--kernel` name.
std::vector<manifest::Manifest> targets_to_build(const manifest::Manifest& manifest,
                                                 const BuildArgs& args) {
    std::vector<size_t> chosen;
    for (const auto& name : args.targets) {
        auto index = manifest::find_target(manifest, name, "--target");
        if (std::find(chosen.begin(), chosen.end(), index) == chosen.end()) {
            chosen.push_back(index);
        }
    }
    std::string only_kernel;
    if (!args.only.empty()) {
        // One shard of `plan`: its target and kernel spec, resolved in the container like any
        // other.
        auto entry = publish::find_entry(publish::plan(manifest, {}), args.only);
        chosen = {entry.target.empty() ? 0
                                       : manifest::find_target(manifest, entry.target, "--only")};
        only_kernel = entry.kernel;
    }
    if (chosen.empty()) {
        for (size_t i = 0; i < manifest.targets.size(); ++i) {
            chosen.push_back(i);
        }
    }
    if (!args.kernels.empty() && chosen.size() != 1) {
        throw InputError("--kernel: " + manifest.file.filename().string() + " has " +
                         std::to_string(chosen.size()) +
                         " targets: name the one to build for with --target");
    }
    std::vector<manifest::Manifest> narrowed;
    for (auto index : chosen) {
        auto target = manifest::with_target(manifest, index);
        if (!only_kernel.empty()) {
            std::erase_if(target.kernels, [&](const manifest::KernelSpec& k) {
                return publish::kernel_argument(k) != only_kernel;
            });
            target.kernels.resize(1);
        }
        if (!args.kernels.empty()) {
            target.kernels.clear();
            for (const auto& k : args.kernels) {
                target.kernels.push_back(kernel_from_argument(k));
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

// Two targets' kernels whose images would get the same file name: refused before building.
void check_image_names(const std::vector<TargetJob>& jobs) {
    std::map<std::string, std::string> made_by; // image file name -> kernel label
    for (const auto& job : jobs) {
        for (const auto& release : job.releases) {
            const auto* source = manifest::source_for(job.manifest, release);
            if (source != nullptr && source->kind == manifest::SourceSpec::Kind::Unsupported) {
                continue; // no image
            }
            auto file = image::image_file_name(job.manifest, release);
            auto label = kernel_label(job.manifest, release);
            auto [it, inserted] = made_by.emplace(file, label);
            if (!inserted) {
                throw InputError(job.manifest.file.filename().string() + ": " + it->second +
                                 " and " + label + " would both make the image " + file);
            }
        }
    }
}

int run_build(const BuildArgs& args, const GlobalOptions& global) {
    auto started = std::chrono::steady_clock::now();
    const auto manifest = manifest::load(args.manifest, load_options(args.allowed_paths));
    auto targets = targets_to_build(manifest, args);
    auto events = open_events(args.events);
    // Human progress on stderr unless the events go there.
    Progress progress(global.quiet || global.json || args.events == "-" ? Progress::Mode::Quiet
                                                                        : Progress::Mode::Auto,
                      stderr, events.get());

    // Keys first: a wrong key should not cost a container and a build.
    auto signers = load_build_signers(manifest, args.sign_key, args.sign_cert, progress);
    require_ddi_signer(manifest, signers);

    // Settled first: sets a killed run was committing are completed, its leftovers removed.
    OutputDir output(fs::absolute(args.output));
    const auto cache = cache_dir();
    fs::create_directories(cache);
    // Held for the run: `cache prune` leaves containers and downloads alone while it is.
    auto cache_use = use_cache(cache);
    remove_leftovers(cache);

    // Each target's own container, holding only its kernels' headers.
    container::PrepareOptions prepare_options{cache, args.refresh, progress};
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
                kernel_args.push_back(publish::kernel_argument(kernel));
            }
        }
        jobs.push_back(
            {std::move(target), std::move(rootfs), std::move(releases), std::move(kernel_args)});
    }
    check_image_names(jobs);
    const bool no_cache = args.no_cache || build_cache_off();
    CachedBuilds cached(manifest, cache, signers, args.sign_cert, !no_cache);
    size_t cache_hits = 0;

    auto work = make_work_dir(cache, manifest.name);
    unsigned cores = std::max(1u, std::thread::hardware_concurrency());
    std::string failures;
    bool failures_are_input = true;
    auto add_failure = [&](const std::string& text, bool input) {
        failures += (failures.empty() ? "" : "\n") + text;
        failures_are_input = failures_are_input && input;
    };
    nlohmann::json images = nlohmann::json::array();
    size_t image_count = 0;
    for (const auto& job : jobs) {
        const auto& target = job.manifest;
        // Kernels whose image set the build cache holds are committed from there: no
        // container, no compiler.
        std::map<std::string, std::string> keys; // release -> build cache key
        nlohmann::json restored = nlohmann::json::array();
        std::vector<std::string> to_build;
        for (size_t i = 0; i < job.releases.size(); ++i) {
            const auto& release = job.releases[i];
            const auto key = cached.key(target, job.rootfs, job.kernels[i], release);
            keys[release] = key;
            if (auto record =
                    cached.restore(key, image::image_file_name(target, release), output)) {
                progress.line(fmt::format("{} (build cache {}, sha256 {})",
                                          (*record)["path"].get<std::string>(), key.substr(0, 16),
                                          (*record)["sha256"].get<std::string>()));
                restored.push_back(std::move(*record));
                ++cache_hits;
            } else {
                to_build.push_back(release);
            }
        }
        auto add_images = [&](const nlohmann::json& packed_images) {
            // In the order of the kernels, whatever order they finished in.
            for (const auto& release : job.releases) {
                for (const auto* list :
                     std::array<const nlohmann::json*, 2>{&packed_images, &restored}) {
                    for (const auto& image : *list) {
                        if (image["kernel"] != release) {
                            continue;
                        }
                        auto entry = image;
                        if (!entry.contains("build_cache")) {
                            entry["build_cache"] = no_cache ? "off" : "miss";
                        }
                        if (target.target_list) {
                            entry["target"] = target.target_name;
                        }
                        images.push_back(entry);
                        ++image_count;
                    }
                }
            }
        };
        if (to_build.empty()) {
            add_images(nlohmann::json::array());
            continue;
        }
        progress.line("building " + target.name + " " + target.version + " for " +
                      std::to_string(to_build.size()) + " kernel(s)" +
                      (target.target_list ? " of target " + target.target_name : "") + " in " +
                      job.rootfs.description);
        build::BuildOptions build_options{.progress = progress};
        build_options.work_root =
            target.target_list ? work.path() / target.target_name : work.path();
        build_options.jobs = std::max(1u, args.jobs);
        build_options.make_jobs = std::max(1u, cores / build_options.jobs);
        build_options.compiler_cache_dir = compiler_cache_for(cache, job.rootfs);
        if (!build_options.compiler_cache_dir.empty()) {
            fs::create_directories(build_options.compiler_cache_dir);
            mark_used(cache, build_options.compiler_cache_dir);
        }
        // The builds see the images' time stamp, so that same inputs give the same modules.
        build_options.source_date_epoch = image::write_options(target, 1).mtime;
        // Each kernel's image is packed on the packer's thread as soon as the kernel has built,
        // while the next one compiles.
        PackContext pack_context{target, job.rootfs, signers, output, cores, progress};
        pack_context.on_staged = [&](const std::string& release,
                                     const std::vector<std::string>& files,
                                     const nlohmann::json& record) {
            cached.store(keys.at(release), output.staging(), files, record, progress);
        };
        ImagePacker packer(pack_context);
        build_options.on_kernel_done = [&](const build::KernelBuild& kernel_build) {
            if (kernel_build.failed.empty() && kernel_build.skipped.empty()) {
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
            if (!kernel_build.failed.empty()) {
                add_failure(kernel_build.failed, kernel_build.failed_on_input);
            } else if (!kernel_build.skipped.empty()) {
                progress.line(kernel_build.skipped); // not supported by the sources: no image
            }
        }
        if (!packed.failures.empty()) {
            add_failure(packed.failures, packed.failures_are_input);
        }
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
        if (failures_are_input) {
            throw InputError(failures);
        }
        throw Error(failures);
    }
    if (args.keep_work) {
        keep_work_dir(work);
        progress.line("work directory kept: " + work.path().string());
    }
    progress.finish();
    if (global.json) {
        nlohmann::json result{{"name", manifest.name},
                              {"version", manifest.version},
                              {"images", images},
                              {"build_cache_hits", cache_hits},
                              {"container_runs", container::run_count()},
                              {"seconds", seconds_since(started)},
                              {"phases", phases_json(progress.phase_seconds())}};
        fmt::print("{}\n", result.dump(2));
    } else if (!global.quiet) {
        fmt::print("built {} image(s) in {:.1f} s{}\n", image_count, seconds_since(started),
                   cache_hits == 0 ? std::string()
                                   : fmt::format(" ({} from the build cache)", cache_hits));
    }
    return 0;
}

} // namespace

Command build_command() {
    return {"build", "Build one systemd-sysext image per kernel from a manifest",
            [](CLI::App& app, const GlobalOptions& global) -> std::function<int()> {
                auto args = std::make_shared<BuildArgs>();
                app.add_option("manifest", args->manifest, "The manifest (YAML)")->required();
                app.add_option("-o,--output", args->output, "Directory for the images")
                    ->capture_default_str();
                app.add_option("-j,--jobs", args->jobs, "Kernels built at the same time")
                    ->capture_default_str()
                    ->check(CLI::Range(1u, 64u));
                app.add_option("-k,--kernel", args->kernels,
                               "Build only for this kernel release (or package:NAME, "
                               "package:NAME/SUITE); repeatable");
                auto* target = app.add_option(
                    "-t,--target", args->targets,
                    "Build only this target of the manifest's `targets:` (repeatable)");
                app.add_option("--only", args->only, "Build only this entry of `kmod-sysext plan`")
                    ->excludes("--kernel")
                    ->excludes(target);
                app.add_flag("--refresh-container", args->refresh,
                             "Rebuild the cached default developer container");
                app.add_flag("--no-cache", args->no_cache,
                             "Rebuild every kernel instead of taking its images from the build "
                             "cache (the new builds replace the cached ones)");
                app.add_flag("--keep-work", args->keep_work,
                             "Keep the work directory (sources, objects, logs)");
                auto* key =
                    app.add_option("--sign-key", args->sign_key,
                                   "Private key (PEM file, or a pkcs11: URI of a key in a token) "
                                   "signing modules and images; "
                                   "overrides the manifest's signing keys");
                auto* cert = app.add_option("--sign-cert", args->sign_cert,
                                            "Certificate of --sign-key (PEM or DER)");
                key->needs(cert);
                cert->needs(key);
                add_allow_path_option(app, args->allowed_paths);
                app.add_option("--events", args->events,
                               "Write progress events, one JSON object per line, to this file "
                               "(- for stderr)");
                return [args, &global] { return run_build(*args, global); };
            }};
}

} // namespace ksx::cli

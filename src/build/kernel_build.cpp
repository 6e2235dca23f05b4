#include "build/build.hpp"
#include "build/compiler_cache.hpp"
#include "build/dkms_build.hpp"
#include "build/kernel_failure.hpp"
#include "build/module_collect.hpp"
#include "build/reproducible_env.hpp"
#include "build/source_cache.hpp"
#include "build/source_select.hpp"
#include "build/source_tree.hpp"
#include "manifest/manifest_rules.hpp"
#include "util/error.hpp"
#include "util/file_io.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <fstream>
#include <optional>
#include <thread>

namespace ksx::build {

namespace fs = std::filesystem;

namespace {

// Where the per-kernel work dirs appear inside the container.
constexpr const char* kSourceInside = "/build/src";
constexpr const char* kInstallInside = "/build/install";
constexpr const char* kModulesInside = "/build/modules";
constexpr const char* kPatchesInside = "/build/patches";

// Kernel `release` moves on to `text`: its live line, and its time counted under `phase`.
void note(const BuildOptions& options, const std::string& release, Phase phase,
          const std::string& text) {
    options.progress.task(release, phase, text);
}

// "12.3 s since `started`", for the build log (bench/ reads these).
std::string seconds_text(std::chrono::steady_clock::time_point started) {
    auto tenths = std::chrono::duration_cast<std::chrono::milliseconds>(
                      std::chrono::steady_clock::now() - started)
                      .count() /
                  100;
    return std::to_string(tenths / 10) + "." + std::to_string(tenths % 10) + " s";
}

void append_log(const fs::path& log, const std::string& text) {
    std::ofstream out(log, std::ios::app);
    out << text << '\n';
    if (!out) {
        throw Error("failed to write build log " + log.string());
    }
}

// A module to collect: where the .ko is and whether to strip it.
struct ModuleJob {
    manifest::ModuleSpec spec;
    bool strip = true;
};

// The manifest's modules, or the ones dkms.conf names; a manifest entry takes the DKMS path of
// the module of the same name unless it gives its own.
std::vector<ModuleJob> module_jobs(const manifest::Manifest& manifest, const DkmsConf* dkms) {
    std::vector<ModuleJob> jobs;
    if (dkms == nullptr) {
        for (const auto& spec : manifest.modules) {
            jobs.push_back({spec, true});
        }
        return jobs;
    }
    auto from_dkms = [](const DkmsModule& module) {
        ModuleJob job;
        job.spec.name = module.dest_name;
        auto location = module.built_location;
        if (!location.empty() && location.back() != '/') {
            location += '/';
        }
        job.spec.path = location + module.built_name + ".ko";
        job.strip = module.strip;
        return job;
    };
    if (manifest.modules.empty()) {
        for (const auto& module : dkms->modules) {
            jobs.push_back(from_dkms(module));
        }
        return jobs;
    }
    for (const auto& spec : manifest.modules) {
        ModuleJob job{spec, true};
        for (const auto& module : dkms->modules) {
            if (manifest::detail::module_key(module.dest_name) ==
                manifest::detail::module_key(spec.name)) {
                auto found = from_dkms(module);
                job.strip = found.strip;
                if (job.spec.path.empty()) {
                    job.spec.path = found.spec.path;
                }
            }
        }
        jobs.push_back(std::move(job));
    }
    return jobs;
}

// Whether `tree` (the copy of `fetched`) is built by its dkms.conf; `auto` without one needs
// build.commands. The errors say where the dkms.conf was looked for.
bool uses_dkms(const manifest::Manifest& manifest, const manifest::SourceSpec& source,
               const SourceTree& fetched, const fs::path& tree) {
    const auto conf = source.dkms_conf.empty() ? std::string("dkms.conf") : source.dkms_conf;
    std::error_code ec;
    const bool has_conf = fs::is_regular_file(tree / conf, ec);
    if (source.dkms == manifest::DkmsMode::Off) {
        return false;
    }
    if (source.dkms == manifest::DkmsMode::On && !has_conf) {
        throw InputError(source.field + ".dkms: no " + conf + " at " + fetched.dkms_conf_looked_at);
    }
    if (!has_conf && manifest.build_commands.empty()) {
        throw InputError(source.field + ": no dkms.conf at " + fetched.dkms_conf_looked_at +
                         ", and the manifest has no build.commands: set " + source.field +
                         ".subdir to the directory that holds the package's dkms.conf, or add "
                         "build.commands");
    }
    return has_conf;
}

// One kernel's build as it goes through prepare, patch, compile and collect.
struct KernelWork {
    KernelBuild result;
    KernelChoice choice;
    std::string kernel_label; // "kernel K", and " (target T)" with `targets:`
    fs::path source;          // the tree the build commands run in (dkms: its build dir)
    fs::path install;
    fs::path modules;
    fs::path patches;
    fs::path compiler_stats;
    SourceTree fetched;
    container::RunSpec run; // binds, environment and log of every command of this kernel
    std::optional<DkmsResult> dkms;
};

// The kernel's source choice and, unless it is skipped, a fresh work dir with a copy of its
// source tree and the environment its commands see. False: skipped (result.skipped says why).
bool prepare(KernelWork& work, const manifest::Manifest& manifest, const container::Rootfs& rootfs,
             const std::string& release, const BuildOptions& options, SourceCache& sources) {
    auto& result = work.result;
    result.kernel_release = release;
    result.work_dir = options.work_root / release;
    result.log = result.work_dir / "build.log";
    work.choice = choose(manifest, release);
    result.image_version = work.choice.image_version;
    // A manifest with `targets:` names the target too: one release may be in several.
    work.kernel_label =
        "kernel " + release +
        (manifest.target_list ? " (target " + manifest.target_name + ")" : std::string());
    if (work.choice.source == nullptr) {
        // Reported once, by the caller (the build's summary), not here too.
        result.skipped = work.kernel_label + ": skipped: " + work.choice.skip_reason;
        return false;
    }
    const auto& source_spec = *work.choice.source;
    work.source = result.work_dir / "src";
    work.install = result.work_dir / "install";
    work.modules = result.work_dir / "modules";
    work.patches = result.work_dir / "patches";
    const auto tools = result.work_dir / "tools";
    fs::remove_all(result.work_dir);
    if (write_reproducible_tools(rootfs, tools)) {
        append_log(result.log, "# pahole runs without -j (reproducible BTF)");
    }
    fs::create_directories(work.install);
    fs::create_directories(work.modules);
    fs::create_directories(work.patches);
    append_log(result.log, "# kernel " + release + ": " + source_spec.field);
    note(options, release, Phase::Fetch, "fetching " + source_spec.field);
    options.progress.watch(release, result.log); // its latest line shows on the live line
    // A fresh copy per kernel: builds write objects next to the sources.
    work.fetched = sources.source(source_spec, result.log);
    copy_source_tree(work.fetched.dir, work.source);

    const auto kernel_source = container::kernel_source_in_container(rootfs, release);
    auto& run = work.run;
    run.binds = {{work.source, kSourceInside, true},
                 {work.install, kInstallInside, true},
                 {work.modules, kModulesInside, true},
                 {work.patches, kPatchesInside, false},
                 {tools, kToolsInside, false}};
    run.env = reproducible_environment(options.source_date_epoch);
    run.env.insert(run.env.end(), {"KERNEL_RELEASE=" + release, "KERNEL_SOURCE=" + kernel_source,
                                   "JOBS=" + std::to_string(std::max(1u, options.make_jobs)),
                                   std::string("SOURCE_DIR=") + kSourceInside,
                                   std::string("INSTALL_DIR=") + kInstallInside});
    run.cwd = kSourceInside;
    run.log_file = result.log;
    work.compiler_stats = result.work_dir / "ccache-stats";
    if (!options.compiler_cache_dir.empty() && write_compiler_links(rootfs, tools)) {
        fs::create_directories(options.compiler_cache_dir);
        fs::create_directories(work.compiler_stats);
        run.binds.push_back({options.compiler_cache_dir, kCompilerCacheInside, true});
        run.binds.push_back({work.compiler_stats, kCompilerStatsInside, true});
        auto env = compiler_cache_environment();
        run.env.insert(run.env.end(), env.begin(), env.end());
        append_log(result.log,
                   "# compilers run through ccache, cache " + options.compiler_cache_dir.string());
    }
    return true;
}

// The kernel's patches, in the order source_select chose them, with `patch -p1`.
void patch(KernelWork& work, const container::Rootfs& rootfs, const BuildOptions& options) {
    const auto& release = work.result.kernel_release;
    for (size_t i = 0; i < work.choice.patches.size(); ++i) {
        const auto& patch = *work.choice.patches[i];
        const auto name = std::to_string(i) + ".patch";
        fs::copy_file(patch.file, work.patches / name);
        note(options, release, Phase::Compile, "applying " + patch.field);
        append_log(work.result.log, "$ patch -p1 --batch --forward -i " + patch.file.string());
        auto run = work.run;
        run.argv = {"patch",     "-p1", "--batch",
                    "--forward", "-i",  std::string(kPatchesInside) + "/" + name};
        if (int status = options.runner->run(rootfs, run); status != 0) {
            throw LoggedError(patch.field + ": " + patch.file.filename().string() +
                                  " does not apply (patch exit status " + std::to_string(status) +
                                  ")",
                              work.result.log);
        }
    }
}

// The tree's dkms.conf steps, or the manifest's build commands. False: dkms.conf's
// BUILD_EXCLUSIVE_* skip this kernel (result.skipped says why).
bool compile(KernelWork& work, const manifest::Manifest& manifest, const container::Rootfs& rootfs,
             const BuildOptions& options) {
    const auto& release = work.result.kernel_release;
    const auto& source_spec = *work.choice.source;
    if (uses_dkms(manifest, source_spec, work.fetched, work.source)) {
        note(options, release, Phase::Compile, "dkms build");
        DkmsJob job;
        job.rootfs = &rootfs;
        job.run = work.run;
        job.tree = work.source;
        job.work_dir = work.result.work_dir;
        job.conf = source_spec.dkms_conf.empty() ? "dkms.conf" : source_spec.dkms_conf;
        job.context.kernelver = release;
        // DKMS's own default, when the container has it (Debian's headers packages do):
        // some dkms.conf files derive paths from it (zfs: ${kernel_source_dir/%build/source}).
        const auto modules_build = "/lib/modules/" + release + "/build";
        std::error_code ec;
        job.context.kernel_source_dir =
            fs::exists(fs::symlink_status(rootfs.root / modules_build.substr(1), ec))
                ? modules_build
                : container::kernel_source_in_container(rootfs, release);
        job.context.arch = kernel_arch(manifest.target.architecture);
        job.jobs = std::max(1u, options.make_jobs);
        job.field = source_spec.field;
        job.runner = options.runner;
        work.dkms = build_with_dkms(job);
        if (!work.dkms->excluded.empty()) {
            // Reported once, by the caller, as the skip above.
            work.result.skipped = work.kernel_label + ": skipped: " + source_spec.field + " " +
                                  job.conf + ": " + work.dkms->excluded;
            return false;
        }
        work.source = work.dkms->build_dir;
        return true;
    }
    const auto& commands = manifest.build_commands;
    for (size_t i = 0; i < commands.size(); ++i) {
        note(options, release, Phase::Compile,
             "build command " + std::to_string(i + 1) + "/" + std::to_string(commands.size()));
        append_log(work.result.log, "$ " + commands[i]);
        auto run = work.run;
        run.argv = {"/bin/sh", "-euc", commands[i]};
        auto started = std::chrono::steady_clock::now();
        int status = options.runner->run(rootfs, run);
        append_log(work.result.log,
                   "# build command " + std::to_string(i + 1) + ": " + seconds_text(started));
        if (status != 0) {
            throw LoggedError(manifest.file.filename().string() + ": build.commands[" +
                                  std::to_string(i) + "] failed with exit status " +
                                  std::to_string(status),
                              work.result.log);
        }
    }
    return true;
}

// The built modules: found, stripped with the container's binutils, checked against the
// kernel (vermagic) and put in dependency order; then the kernel's userspace packages (unless
// they are shared).
void collect(KernelWork& work, const manifest::Manifest& manifest, const container::Rootfs& rootfs,
             const BuildOptions& options, SourceCache& sources) {
    auto& result = work.result;
    const auto& release = result.kernel_release;
    note(options, release, Phase::Compile, "collecting modules");
    std::vector<BuiltModule> built;
    for (const auto& job : module_jobs(manifest, work.dkms ? &work.dkms->conf : nullptr)) {
        const auto& spec = job.spec;
        auto found = find_module_file(spec, work.source, work.install);
        auto staged = work.modules / (spec.name + ".ko");
        fs::copy_file(found, staged, fs::copy_options::overwrite_existing);
        // Strip with the container's binutils: they match the compiler that built the module.
        auto run = work.run;
        run.binds = {{work.modules, kModulesInside, true}};
        run.cwd = kModulesInside;
        run.argv = {"strip", "--strip-debug",
                    std::string(kModulesInside) + "/" + staged.filename().string()};
        if (job.strip) {
            append_log(result.log, "$ strip --strip-debug " + staged.filename().string());
            if (int status = options.runner->run(rootfs, run); status != 0) {
                throw LoggedError("strip failed on " + spec.name + ".ko with exit status " +
                                      std::to_string(status),
                                  result.log);
            }
        }
        auto info = read_module_info(staged);
        if (vermagic_release(info.vermagic) != release) {
            throw Error("module " + spec.name + " has vermagic \"" + info.vermagic +
                        "\", it was not built for " + release);
        }
        BuiltModule module;
        module.name = spec.name;
        module.file = staged;
        module.vermagic = info.vermagic;
        module.depends = info.depends;
        module.options = spec.options;
        module.load = spec.load;
        built.push_back(std::move(module));
    }
    result.modules = dependency_order(std::move(built));
    result.compiler_cache = read_compiler_cache_stats(work.compiler_stats / "log");
    // `userspace: shared`: the packages go into the target's shared image, made once.
    if (manifest.userspace == manifest::Userspace::PerKernel) {
        for (const auto* package : work.choice.packages) {
            note(options, release, Phase::Fetch, "package " + package->field);
            result.userspace.push_back(
                sources.package(*package, manifest.relocate, result.log).root);
        }
    }
    note(options, release, Phase::Compile,
         "built " + std::to_string(result.modules.size()) + " modules");
}

KernelBuild build_one(const manifest::Manifest& manifest, const container::Rootfs& rootfs,
                      const std::string& release, const BuildOptions& options,
                      SourceCache& sources) {
    KernelWork work;
    if (prepare(work, manifest, rootfs, release, options, sources)) {
        patch(work, rootfs, options);
        if (compile(work, manifest, rootfs, options)) {
            collect(work, manifest, rootfs, options, sources);
        }
    }
    return std::move(work.result);
}

} // namespace

std::vector<KernelBuild> build_kernels(const manifest::Manifest& manifest,
                                       const container::Rootfs& rootfs,
                                       const std::vector<std::string>& kernel_releases,
                                       const BuildOptions& options) {
    const size_t count = kernel_releases.size();
    std::vector<KernelBuild> results(count);
    std::atomic<size_t> next{0};
    SourceCache sources(rootfs, options.cache_dir.empty() ? cache_dir() : options.cache_dir,
                        options.work_root / "fetched", options.progress);
    auto worker = [&] {
        for (size_t i = next++; i < count; i = next++) {
            const auto& release = kernel_releases[i];
            try {
                results[i] = build_one(manifest, rootfs, release, options, sources);
            } catch (const std::exception& e) {
                results[i].kernel_release = release;
                results[i].log = options.work_root / release / "build.log";
                results[i].failure = kernel_failure(
                    e, release, manifest.target_list ? manifest.target_name : "", results[i].log);
            }
            // Before the packer is handed the kernel: its packing is a new live line.
            options.progress.done(release);
            if (options.on_kernel_done) {
                options.on_kernel_done(results[i]);
            }
        }
    };
    {
        std::vector<std::jthread> workers;
        size_t threads = std::clamp<size_t>(options.jobs, 1, std::max<size_t>(count, 1));
        for (size_t t = 1; t < threads; ++t) {
            workers.emplace_back(worker);
        }
        worker();
    }
    return results;
}

} // namespace ksx::build

#include "build/build.hpp"
#include "build/module_collect.hpp"
#include "util/error.hpp"

#include <algorithm>
#include <atomic>
#include <fstream>
#include <thread>

namespace ksx::build {

namespace fs = std::filesystem;

namespace {

// Where the per-kernel work dirs appear inside the container.
constexpr const char* kSourceInside = "/build/src";
constexpr const char* kInstallInside = "/build/install";
constexpr const char* kModulesInside = "/build/modules";

void note(const BuildOptions& options, const std::string& text) {
    if (options.progress) {
        options.progress->step(text);
    }
}

void append_log(const fs::path& log, const std::string& text) {
    std::ofstream out(log, std::ios::app);
    out << text << '\n';
    if (!out) {
        throw Error("failed to write build log " + log.string());
    }
}

KernelBuild build_one(const manifest::Manifest& manifest, const container::Rootfs& rootfs,
                      const std::string& release, const BuildOptions& options) {
    KernelBuild result;
    result.kernel_release = release;
    result.work_dir = options.work_root / release;
    result.log = result.work_dir / "build.log";
    const auto source = result.work_dir / "src";
    const auto install = result.work_dir / "install";
    const auto modules = result.work_dir / "modules";
    fs::remove_all(result.work_dir);
    fs::create_directories(install);
    fs::create_directories(modules);
    // A fresh copy per kernel: builds write objects next to the sources.
    fs::copy(manifest.source_dir, source,
             fs::copy_options::recursive | fs::copy_options::copy_symlinks);

    const auto kernel_source = container::kernel_source_in_container(rootfs, release);
    container::RunSpec run;
    run.binds = {{source, kSourceInside, true},
                 {install, kInstallInside, true},
                 {modules, kModulesInside, true}};
    run.env = {"KERNEL_RELEASE=" + release, "KERNEL_SOURCE=" + kernel_source,
               "JOBS=" + std::to_string(std::max(1u, options.make_jobs)),
               std::string("SOURCE_DIR=") + kSourceInside,
               std::string("INSTALL_DIR=") + kInstallInside};
    run.cwd = kSourceInside;
    run.log_file = result.log;

    const auto& commands = manifest.build_commands;
    for (size_t i = 0; i < commands.size(); ++i) {
        note(options, "[" + release + "] build command " + std::to_string(i + 1) + "/" +
                          std::to_string(commands.size()));
        append_log(result.log, "$ " + commands[i]);
        run.argv = {"/bin/sh", "-euc", commands[i]};
        int status = container::run(rootfs, run);
        if (status != 0) {
            throw Error("kernel " + release + ": build command " + std::to_string(i + 1) +
                        " failed with exit status " + std::to_string(status) + "; see " +
                        result.log.string());
        }
    }

    note(options, "[" + release + "] collecting modules");
    std::vector<BuiltModule> built;
    for (const auto& spec : manifest.modules) {
        auto found = find_module_file(spec, source, install);
        auto staged = modules / (spec.name + ".ko");
        fs::copy_file(found, staged, fs::copy_options::overwrite_existing);
        // Strip with the container's binutils: they match the compiler that built the module.
        run.argv = {"strip", "--strip-debug",
                    std::string(kModulesInside) + "/" + staged.filename().string()};
        append_log(result.log, "$ strip --strip-debug " + staged.filename().string());
        if (int status = container::run(rootfs, run); status != 0) {
            throw Error("kernel " + release + ": strip failed on " + spec.name +
                        ".ko with exit status " + std::to_string(status) + "; see " +
                        result.log.string());
        }
        auto info = read_module_info(staged);
        if (vermagic_release(info.vermagic) != release) {
            throw Error("kernel " + release + ": module " + spec.name + " has vermagic \"" +
                        info.vermagic + "\", it was not built for " + release);
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
    note(options, "[" + release + "] built " + std::to_string(result.modules.size()) + " modules");
    return result;
}

} // namespace

std::vector<KernelBuild> build_kernels(const manifest::Manifest& manifest,
                                       const container::Rootfs& rootfs,
                                       const std::vector<std::string>& kernel_releases,
                                       const BuildOptions& options) {
    const size_t count = kernel_releases.size();
    std::vector<KernelBuild> results(count);
    std::vector<std::string> errors(count);
    std::atomic<size_t> next{0};
    auto worker = [&] {
        for (size_t i = next++; i < count; i = next++) {
            const auto& release = kernel_releases[i];
            try {
                results[i] = build_one(manifest, rootfs, release, options);
            } catch (const std::exception& e) {
                std::string message = e.what();
                if (!message.starts_with("kernel " + release + ":")) {
                    message = "kernel " + release + ": " + message + "; see " +
                              (options.work_root / release / "build.log").string();
                }
                errors[i] = message;
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
    std::string failures;
    for (const auto& error : errors) {
        if (!error.empty()) {
            failures += (failures.empty() ? "" : "\n") + error;
        }
    }
    if (!failures.empty()) {
        throw Error(failures);
    }
    return results;
}

} // namespace ksx::build

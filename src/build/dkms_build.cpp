#include "build/dkms_build.hpp"

#include "build/kernel_failure.hpp"
#include "util/error.hpp"
#include "util/file_io.hpp"

#include <chrono>
#include <fstream>

namespace ksx::build {

namespace fs = std::filesystem;

namespace {

constexpr const char* kMetaInside = "/build/dkms-meta";

void append_log(const fs::path& log, const std::string& text) {
    std::ofstream out(log, std::ios::app);
    out << text << '\n';
    if (!out) {
        throw Error("failed to write build log " + log.string());
    }
}

} // namespace

DkmsResult build_with_dkms(const DkmsJob& job) {
    const auto& log = job.run.log_file;
    const auto meta = job.work_dir / "dkms-meta";
    fs::create_directories(meta);
    std::error_code ec;
    if (!fs::is_regular_file(job.tree / job.conf, ec)) {
        throw InputError(job.field + ".dkms: the source tree has no " + job.conf);
    }

    // 1. Evaluate dkms.conf where the tree is now (/build/src).
    auto run = job.run;
    run.binds.push_back({meta, kMetaInside, true});
    for (const auto& entry : dkms_environment(job.context)) {
        run.env.push_back(entry);
    }
    run.argv = {"bash",
                "-c",
                dkms_evaluation_script(),
                "dkms",
                "/build/src/" + job.conf,
                std::string(kMetaInside) + "/variables"};
    append_log(log, "$ # evaluating " + job.conf + " for " + job.context.kernelver);
    if (int status = job.runner->run(*job.rootfs, run); status != 0) {
        throw LoggedInputError(job.field + ": " + job.conf +
                                   " cannot be evaluated by bash (exit status " +
                                   std::to_string(status) + ")",
                               log);
    }
    DkmsResult result;
    result.conf = dkms_conf_from(parse_dkms_output(read_file(meta / "variables")),
                                 job.field + ": " + job.conf);
    const auto& conf = result.conf;
    append_log(log, "# dkms.conf: " + conf.package_name + " " + conf.package_version +
                        ", MAKE: " + conf.make);
    if (!conf.excluded.empty()) {
        result.excluded = conf.excluded;
        append_log(log, "# excluded: " + conf.excluded);
        return result;
    }

    // 2. Move the tree to $dkms_tree/NAME/VERSION/build, where DKMS builds.
    const auto dkms_tree = job.work_dir / "dkms";
    result.build_dir = dkms_tree / conf.package_name / conf.package_version / "build";
    fs::create_directories(result.build_dir.parent_path());
    fs::rename(job.tree, result.build_dir);
    const auto build_inside =
        job.context.dkms_tree + "/" + conf.package_name + "/" + conf.package_version + "/build";
    run = job.run;
    std::erase_if(run.binds, [&](const container::Bind& b) { return b.host == job.tree; });
    run.binds.push_back({dkms_tree, job.context.dkms_tree, true});
    for (const auto& entry : dkms_environment(job.context)) {
        run.env.push_back(entry);
    }
    run.env.push_back("module=" + conf.package_name);
    run.env.push_back("module_version=" + conf.package_version);
    run.cwd = build_inside;

    // Runs one step; its exit status (a failure ends the build unless `must_pass` is false).
    auto step = [&](const std::string& label, const std::string& command, bool must_pass = true) {
        append_log(log, "$ # " + label + "\n$ " + command);
        run.argv = {"bash", "-c", command};
        auto started = std::chrono::steady_clock::now();
        int status = job.runner->run(*job.rootfs, run);
        auto tenths = std::chrono::duration_cast<std::chrono::milliseconds>(
                          std::chrono::steady_clock::now() - started)
                          .count() /
                      100;
        append_log(log, "# dkms " + label + ": " + std::to_string(tenths / 10) + "." +
                            std::to_string(tenths % 10) + " s");
        if (status != 0 && must_pass) {
            throw LoggedError(job.field + ": dkms " + label + " failed with exit status " +
                                  std::to_string(status),
                              log);
        }
        return status;
    };
    // DKMS keeps a kernel's results in $dkms_tree/NAME/VERSION/KERNEL/ARCH/{module,log} before
    // POST_BUILD runs; post-build scripts (zfs's) copy files there.
    const auto results = dkms_tree / conf.package_name / conf.package_version /
                         job.context.kernelver / job.context.arch;
    fs::create_directories(results / "module");
    fs::create_directories(results / "log");
    for (const auto& patch : conf.patches) {
        step("PATCH " + patch, dkms_patch_command(patch));
    }
    if (!conf.pre_build.empty()) {
        step("PRE_BUILD", dkms_script_command(conf.pre_build, build_inside));
    }
    if (!conf.clean.empty()) {
        // DKMS 3.0 (Debian 12's) runs CLEAN after PRE_BUILD, right before MAKE, and ignores
        // its exit status: `invoke_command "$clean" "Cleaning build area" background` has no
        // `||`. DKMS 3.1.7 and later no longer run it (the build tree is a fresh copy).
        if (int status = step("CLEAN", conf.clean, false); status != 0) {
            append_log(log, "# dkms CLEAN: exit status " + std::to_string(status) +
                                ", ignored as DKMS does");
        }
    }
    step("MAKE", dkms_make_command(conf, job.jobs, job.context.kernelver));
    if (!conf.post_build.empty()) {
        step("POST_BUILD", dkms_script_command(conf.post_build, build_inside));
    }
    return result;
}

} // namespace ksx::build

// The build's steps (prepare, patch, compile, collect) with a fake command runner standing in
// for the container: what each command sees, in which order, and how failures and skips are
// reported per kernel. The modules the fake "builds" are real ELF files with a .modinfo section,
// read back with the host's modinfo as the real build does.
#include "build/build.hpp"
#include "util/atomic_file.hpp"
#include "util/error.hpp"
#include "util/file_io.hpp"
#include "util/process.hpp"

#include <algorithm>
#include <doctest/doctest.h>
#include <filesystem>
#include <map>
#include <mutex>
#include <string>
#include <vector>

namespace fs = std::filesystem;
using namespace ksx;

namespace {

// A module file for `release` at `path`: an empty object file with the .modinfo section
// modinfo reads (vermagic and depends).
void write_module(const fs::path& path, const std::string& release, const std::string& depends) {
    if (!fs::exists("empty.o")) {
        write_file_atomic("empty.c", "");
        REQUIRE(run_capture({"cc", "-c", "empty.c", "-o", "empty.o"}).exit_status == 0);
    }
    write_file_atomic("modinfo.bin", std::string("vermagic=") + release +
                                         " SMP preempt mod_unload" + '\0' + "depends=" + depends +
                                         '\0');
    REQUIRE(run_capture({"objcopy", "--add-section", ".modinfo=modinfo.bin", "--set-section-flags",
                         ".modinfo=alloc,readonly", "empty.o", path.string()})
                .exit_status == 0);
}

struct Call {
    std::string kernel; // KERNEL_RELEASE of the command's environment
    container::RunSpec spec;
};

// Records every command; `/bin/sh -euc` build commands "compile" demo_core.ko and demo.ko into
// the source tree; any command can be made to fail for one kernel.
class FakeRunner : public build::CommandRunner {
public:
    int run(const container::Rootfs&, const container::RunSpec& spec) override {
        std::string kernel;
        for (const auto& variable : spec.env) {
            if (variable.starts_with("KERNEL_RELEASE=")) {
                kernel = variable.substr(15);
            }
        }
        {
            std::lock_guard lock(mutex_);
            calls.push_back({kernel, spec});
        }
        auto failing = fail.find(kernel);
        if (failing != fail.end() && spec.argv.at(0) == failing->second) {
            return 2;
        }
        if (spec.argv.at(0) == "/bin/sh") {
            for (const auto& bind : spec.binds) {
                if (bind.inside == "/build/src") {
                    std::lock_guard lock(mutex_); // one objcopy at a time: shared scratch files
                    const auto& release = built_for.empty() ? kernel : built_for;
                    write_module(bind.host / "demo_core.ko", release, "");
                    write_module(bind.host / "demo.ko", release, "demo_core,crc32c");
                }
            }
        }
        return 0;
    }

    std::vector<Call> calls;
    std::map<std::string, std::string> fail; // kernel -> argv[0] of the command that fails
    std::string built_for; // set: the modules' vermagic names this release instead

private:
    std::mutex mutex_;
};

struct Fixture {
    manifest::Manifest manifest;
    container::Rootfs rootfs;
    FakeRunner runner;
    build::BuildOptions options;

    Fixture() {
        fs::create_directories("root/usr/bin");
        rootfs = {fs::absolute("root"), "fake", "/usr/src/linux-headers-${KERNEL_RELEASE}"};
        fs::create_directories("tree");
        write_file_atomic("tree/Makefile", "obj-m := demo_core.o demo.o\n");
        write_file_atomic("first.patch", "first\n");
        write_file_atomic("second.patch", "second\n");
        manifest.name = "demo";
        manifest.version = "1.0.0";
        manifest.file = fs::absolute("demo.yaml");
        manifest.target.architecture = "x86-64";
        manifest.sources.resize(2);
        manifest.sources[0].field = "sources[0]";
        manifest.sources[0].kind = manifest::SourceSpec::Kind::Unsupported;
        manifest.sources[0].unsupported = "too old for demo";
        manifest.sources[0].kernels.max = "5.99";
        manifest.sources[1].field = "sources[1]";
        manifest.sources[1].path = fs::absolute("tree");
        manifest.sources[1].dkms = manifest::DkmsMode::Off;
        manifest.sources[1].patches.resize(1);
        manifest.sources[1].patches[0].file = fs::absolute("first.patch");
        manifest.sources[1].patches[0].field = "sources[1].patches[0]";
        manifest.patches.resize(1);
        manifest.patches[0].file = fs::absolute("second.patch");
        manifest.patches[0].field = "patches[0]";
        manifest.build_commands = {"make -C \"$KERNEL_SOURCE\" M=\"$SOURCE_DIR\" modules", "true"};
        manifest.modules.resize(2);
        manifest.modules[0].name = "demo_core";
        manifest.modules[0].options = "debug=1";
        manifest.modules[1].name = "demo";
        options.work_root = fs::absolute("work");
        options.cache_dir = fs::absolute("cache");
        options.make_jobs = 3;
        options.source_date_epoch = 1700000000;
        options.runner = &runner;
    }

    std::vector<build::KernelBuild> build(const std::vector<std::string>& kernels) {
        return build::build_kernels(manifest, rootfs, kernels, options);
    }

    std::vector<Call> calls_for(const std::string& kernel) const {
        std::vector<Call> found;
        std::copy_if(runner.calls.begin(), runner.calls.end(), std::back_inserter(found),
                     [&](const Call& call) { return call.kernel == kernel; });
        return found;
    }
};

bool has(const std::vector<std::string>& list, const std::string& item) {
    return std::find(list.begin(), list.end(), item) != list.end();
}

} // namespace

TEST_CASE("a build command sees the kernel, its headers, the jobs and its directories") {
    Fixture f;
    auto builds = f.build({"6.1.0-28-amd64"});
    REQUIRE(builds.size() == 1);
    CHECK_FALSE(builds[0].failure);
    CHECK(builds[0].image_version == "1.0.0");
    auto calls = f.calls_for("6.1.0-28-amd64");
    auto make = std::find_if(calls.begin(), calls.end(),
                             [](const Call& c) { return c.spec.argv.at(0) == "/bin/sh"; });
    REQUIRE(make != calls.end());
    const auto& spec = make->spec;
    CHECK(spec.argv == std::vector<std::string>{"/bin/sh", "-euc",
                                                "make -C \"$KERNEL_SOURCE\" M=\"$SOURCE_DIR\" "
                                                "modules"});
    CHECK(spec.cwd == "/build/src");
    CHECK(spec.log_file == fs::absolute("work/6.1.0-28-amd64/build.log"));
    for (const auto* variable :
         {"KERNEL_RELEASE=6.1.0-28-amd64", "KERNEL_SOURCE=/usr/src/linux-headers-6.1.0-28-amd64",
          "JOBS=3", "SOURCE_DIR=/build/src", "INSTALL_DIR=/build/install",
          "SOURCE_DATE_EPOCH=1700000000", "KBUILD_BUILD_TIMESTAMP=@1700000000"}) {
        CAPTURE(variable);
        CHECK(has(spec.env, variable));
    }
    std::map<std::string, std::pair<fs::path, bool>> binds;
    for (const auto& bind : spec.binds) {
        binds[bind.inside] = {bind.host, bind.writable};
    }
    CHECK(binds["/build/src"] == std::pair{fs::absolute("work/6.1.0-28-amd64/src"), true});
    CHECK(binds["/build/install"] == std::pair{fs::absolute("work/6.1.0-28-amd64/install"), true});
    CHECK(binds["/build/patches"].second == false);
    // The source tree is a copy: the build writes into the work dir, never into the manifest's.
    CHECK(fs::exists("work/6.1.0-28-amd64/src/Makefile"));
    CHECK_FALSE(fs::exists("tree/demo.ko"));
    // The modules, in dependency order, each stripped in the container.
    REQUIRE(builds[0].modules.size() == 2);
    CHECK(builds[0].modules[0].name == "demo_core");
    CHECK(builds[0].modules[0].options == "debug=1");
    CHECK(builds[0].modules[1].name == "demo");
    CHECK(builds[0].modules[1].depends == std::vector<std::string>{"demo_core", "crc32c"});
    CHECK(builds[0].modules[1].kernel_depends == std::vector<std::string>{"crc32c"});
    CHECK(builds[0].modules[1].vermagic.starts_with("6.1.0-28-amd64 SMP"));
    auto strips = std::count_if(calls.begin(), calls.end(),
                                [](const Call& c) { return c.spec.argv.at(0) == "strip"; });
    CHECK(strips == 2);
}

TEST_CASE("patches run before the build commands, the source's first, in order") {
    Fixture f;
    f.build({"6.1.0-28-amd64"});
    std::vector<std::string> order;
    for (const auto& call : f.calls_for("6.1.0-28-amd64")) {
        const auto& argv = call.spec.argv;
        order.push_back(argv.at(0) == "patch" ? "patch " + argv.back() : argv.at(0));
    }
    CHECK(order == std::vector<std::string>{"patch /build/patches/0.patch",
                                            "patch /build/patches/1.patch", "/bin/sh", "/bin/sh",
                                            "strip", "strip"});
    CHECK(read_file("work/6.1.0-28-amd64/patches/0.patch") == "first\n");
    CHECK(read_file("work/6.1.0-28-amd64/patches/1.patch") == "second\n");
}

TEST_CASE("a kernel no source supports is skipped without running anything") {
    Fixture f;
    auto builds = f.build({"5.10.0-30-amd64", "6.1.0-28-amd64"});
    REQUIRE(builds.size() == 2);
    CHECK(builds[0].skipped == "kernel 5.10.0-30-amd64: skipped: too old for demo");
    CHECK_FALSE(builds[0].failure);
    CHECK(builds[0].modules.empty());
    CHECK(f.calls_for("5.10.0-30-amd64").empty());
    CHECK(builds[1].skipped.empty());
    CHECK(builds[1].modules.size() == 2);
}

TEST_CASE("a kernel whose command fails is reported with its log; the others still build") {
    Fixture f;
    f.options.jobs = 2;
    f.runner.fail["6.12.57+deb13-amd64"] = "/bin/sh";
    f.runner.fail["6.1.0-28-amd64"] = "patch";
    std::vector<std::string> done;
    std::mutex mutex;
    f.options.on_kernel_done = [&](const build::KernelBuild& b) {
        std::lock_guard lock(mutex);
        done.push_back(b.kernel_release);
    };
    auto builds = f.build({"6.1.0-28-amd64", "6.12.57+deb13-amd64", "6.1.0-30-amd64"});
    REQUIRE(builds.size() == 3);
    const auto log1 = fs::absolute("work/6.1.0-28-amd64/build.log").string();
    REQUIRE(builds[0].failure);
    CHECK(builds[0].failure->kernel == "6.1.0-28-amd64");
    CHECK(builds[0].failure->target.empty());
    CHECK(builds[0].failure->log == log1);
    CHECK(builds[0].failure->message ==
          "sources[1].patches[0]: first.patch does not apply (patch exit status 2)");
    CHECK_FALSE(builds[0].failure->input);
    CHECK(build::describe(*builds[0].failure) ==
          "kernel 6.1.0-28-amd64: sources[1].patches[0]: first.patch does not apply (patch exit "
          "status 2); see " +
              log1);
    const auto log2 = fs::absolute("work/6.12.57+deb13-amd64/build.log").string();
    REQUIRE(builds[1].failure);
    CHECK(build::describe(*builds[1].failure) ==
          "kernel 6.12.57+deb13-amd64: demo.yaml: build.commands[0] failed with exit status 2; "
          "see " +
              log2);
    CHECK(builds[1].log == log2);
    CHECK(builds[1].modules.empty());
    CHECK_FALSE(builds[2].failure);
    CHECK(builds[2].modules.size() == 2);
    std::sort(done.begin(), done.end());
    CHECK(done ==
          std::vector<std::string>{"6.1.0-28-amd64", "6.1.0-30-amd64", "6.12.57+deb13-amd64"});
}

TEST_CASE("a module built for another kernel fails that kernel, naming it and its log") {
    Fixture f;
    f.runner.built_for = "6.1.0-99-amd64";
    auto builds = f.build({"6.1.0-28-amd64"});
    REQUIRE(builds.size() == 1);
    REQUIRE(builds[0].failure);
    CHECK(build::describe(*builds[0].failure) ==
          "kernel 6.1.0-28-amd64: module demo_core has vermagic \"6.1.0-99-amd64 SMP preempt "
          "mod_unload\", it was not built for 6.1.0-28-amd64; see " +
              fs::absolute("work/6.1.0-28-amd64/build.log").string());
}

TEST_CASE("the build result carries the version of the source chosen for its kernel") {
    Fixture f;
    f.manifest.sources[1].image_version = "0.9.1";
    auto builds = f.build({"6.1.0-28-amd64"});
    REQUIRE(builds.size() == 1);
    CHECK_FALSE(builds[0].failure);
    CHECK(builds[0].image_version == "0.9.1");
}

TEST_CASE("a kernel failure of a manifest with targets names the target") {
    Fixture f;
    f.manifest.target_list = true;
    f.manifest.target_name = "debian-13";
    f.runner.fail["6.1.0-28-amd64"] = "/bin/sh";
    auto builds = f.build({"6.1.0-28-amd64"});
    REQUIRE(builds[0].failure);
    CHECK(builds[0].failure->target == "debian-13");
    CHECK(build::describe(*builds[0].failure) ==
          "kernel 6.1.0-28-amd64 (target debian-13): demo.yaml: build.commands[0] failed with "
          "exit status 2; see " +
              fs::absolute("work/6.1.0-28-amd64/build.log").string());
}

TEST_CASE("a failure that carries another log names that log, a packing failure none") {
    build::LoggedInputError logged("packages[0].apt: cannot be downloaded", "/first/build.log");
    auto failure = build::kernel_failure(logged, "6.1.0-30-amd64", "", "/second/build.log");
    CHECK(failure.log == "/first/build.log");
    CHECK(failure.input);
    CHECK(build::describe(failure) == "kernel 6.1.0-30-amd64: packages[0].apt: cannot be "
                                      "downloaded; see /first/build.log");
    auto plain = build::kernel_failure(Error("signing failed"), "6.1.0-30-amd64", "", {});
    CHECK_FALSE(plain.input);
    CHECK(build::describe(plain) == "kernel 6.1.0-30-amd64: signing failed");
}

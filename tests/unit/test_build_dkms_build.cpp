// Running a dkms.conf's steps for real, in a container made of the host's /usr.
#include "build/dkms_build.hpp"
#include "build/kernel_failure.hpp"
#include "util/error.hpp"
#include "util/file_io.hpp"

#include <doctest/doctest.h>
#include <filesystem>
#include <fstream>

namespace fs = std::filesystem;
using namespace ksx::build;

namespace {

// A tiny real rootfs: the usual merged-/usr links, with the host's /usr bound read-only in.
struct HostUsrJob {
    ksx::container::Rootfs rootfs;
    DkmsJob job;

    HostUsrJob() {
        const auto root = fs::absolute("root");
        fs::create_directories(root / "usr");
        fs::create_directories(root / "etc");
        for (const char* dir : {"bin", "sbin", "lib", "lib64"}) {
            fs::create_symlink(std::string("usr/") + dir, root / dir);
        }
        rootfs = {root, "host /usr", ""};
        fs::create_directories("work");
        job.rootfs = &rootfs;
        job.tree = fs::absolute("tree");
        job.work_dir = fs::absolute("work");
        job.conf = "dkms.conf";
        job.context.kernelver = "6.1.0-56-amd64";
        job.context.kernel_source_dir = "/usr/src/no-headers";
        job.context.arch = "x86_64";
        job.field = "source";
        job.run.binds = {{"/usr", "/usr", false}, {job.tree, "/build/src", true}};
        job.run.cwd = "/build/src";
        job.run.log_file = fs::absolute("build.log");
    }
};

void write_executable(const fs::path& file, const std::string& text) {
    std::ofstream(file) << text;
    fs::permissions(file, fs::perms::owner_all);
}

} // namespace

TEST_CASE("PATCH, PRE_BUILD, CLEAN, MAKE and POST_BUILD run in DKMS 3's order") {
    HostUsrJob box;
    fs::create_directories("tree/patches");
    std::ofstream("tree/stage") << "unpatched\n";
    std::ofstream("tree/patches/mark.patch")
        << "--- a/stage\n+++ b/stage\n@@ -1 +1 @@\n-unpatched\n+PATCH\n";
    write_executable("tree/pre.sh", "#!/bin/sh\ncat stage >> steps\necho PRE_BUILD >> steps\n");
    write_executable("tree/post.sh", "#!/bin/sh\necho POST_BUILD \"$@\" >> steps\n");
    // CLEAN fails: DKMS ignores its exit status.
    std::ofstream("tree/dkms.conf") << "PACKAGE_NAME=steps\nPACKAGE_VERSION=1\n"
                                       "BUILT_MODULE_NAME[0]=steps\n"
                                       "PATCH[0]=mark.patch\n"
                                       "PRE_BUILD=pre.sh\n"
                                       "CLEAN=\"echo CLEAN >> steps; exit 3\"\n"
                                       "MAKE[0]=\"echo MAKE >> steps; pwd >> steps\"\n"
                                       "POST_BUILD=\"post.sh ${kernelver}\"\n";
    auto result = build_with_dkms(box.job);
    CHECK(result.excluded.empty());
    CHECK(result.build_dir == fs::absolute("work/dkms/steps/1/build"));
    CHECK(ksx::read_file(result.build_dir / "steps") ==
          "PATCH\nPRE_BUILD\nCLEAN\nMAKE\n/var/lib/dkms/steps/1/build\n"
          "POST_BUILD 6.1.0-56-amd64\n");
    CHECK(ksx::read_file(box.job.run.log_file).find("# dkms CLEAN: exit status 3, ignored") !=
          std::string::npos);
}

TEST_CASE("a failing MAKE names the field and the log; an excluded kernel runs no step") {
    HostUsrJob box;
    fs::create_directories("tree");
    std::ofstream("tree/dkms.conf") << "PACKAGE_NAME=fails\nPACKAGE_VERSION=1\n"
                                       "BUILT_MODULE_NAME[0]=fails\n"
                                       "MAKE[0]=\"exit 4\"\n";
    try {
        build_with_dkms(box.job);
        FAIL("MAKE failed, the build did not");
    } catch (const ksx::build::LoggedError& e) {
        CHECK(std::string(e.what()) == "source: dkms MAKE failed with exit status 4");
        CHECK(e.log() == box.job.run.log_file);
    }

    fs::remove_all("work");
    fs::create_directories("work");
    fs::create_directories("tree");
    std::ofstream("tree/dkms.conf") << "PACKAGE_NAME=skip\nPACKAGE_VERSION=1\n"
                                       "BUILT_MODULE_NAME[0]=skip\n"
                                       "PRE_BUILD=\"never\"\n"
                                       "BUILD_EXCLUSIVE_KERNEL=\"^5\\.\"\n";
    auto result = build_with_dkms(box.job);
    CHECK(result.excluded == "BUILD_EXCLUSIVE_KERNEL=\"^5\\.\" does not match 6.1.0-56-amd64");
    CHECK(fs::exists("tree/dkms.conf")); // not moved to the dkms tree: nothing ran
}

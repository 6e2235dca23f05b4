// The reproducible-build environment of the container builds and the pahole wrapper.
#include "build/reproducible_env.hpp"
#include "util/file_io.hpp"
#include "util/process.hpp"

#include <algorithm>
#include <doctest/doctest.h>
#include <filesystem>
#include <fstream>
#include <string>

namespace fs = std::filesystem;
using namespace ksx::build;

TEST_CASE("the builds see the image's time stamp and the tools directory first on PATH") {
    auto env = reproducible_environment(1700000000);
    auto has = [&env](const std::string& entry) {
        return std::find(env.begin(), env.end(), entry) != env.end();
    };
    CHECK(has("SOURCE_DATE_EPOCH=1700000000"));
    CHECK(has("KBUILD_BUILD_TIMESTAMP=@1700000000"));
    CHECK(has("KBUILD_BUILD_USER=kmod-sysext"));
    CHECK(has("KBUILD_BUILD_HOST=kmod-sysext"));
    CHECK(has("PATH=/build/tools:/usr/sbin:/usr/bin:/sbin:/bin"));
}

TEST_CASE("the pahole wrapper exists only where pahole does, and drops its jobs option alone") {
    ksx::container::Rootfs rootfs{fs::absolute("rootfs"), "test", ""};
    fs::create_directories(rootfs.root / "usr/bin");
    CHECK_FALSE(write_reproducible_tools(rootfs, "tools-none"));
    CHECK(fs::is_directory("tools-none"));
    CHECK_FALSE(fs::exists("tools-none/pahole"));

    { std::ofstream(rootfs.root / "usr/bin/pahole") << "#!/bin/sh\n"; }
    REQUIRE(write_reproducible_tools(rootfs, "tools"));
    CHECK((fs::status("tools/pahole").permissions() & fs::perms::owner_exec) != fs::perms::none);

    // The same script with the real pahole replaced by one that prints its arguments.
    auto script = ksx::read_file("tools/pahole");
    auto at = script.find("exec /usr/bin/pahole");
    REQUIRE(at != std::string::npos);
    script.replace(at, std::string("exec /usr/bin/pahole").size(), "printf '<%s>'");
    { std::ofstream("echo-pahole") << script; }
    auto result = ksx::run_capture({"sh", "echo-pahole", "-J", "-j", "--btf_base", "vmlinux",
                                    "a b.ko", "-j4", "--jobs=2", "--jobs", "--lang_exclude=rust"});
    CHECK(result.exit_status == 0);
    CHECK(result.output == "<-J><--btf_base><vmlinux><a b.ko><--lang_exclude=rust>");
}

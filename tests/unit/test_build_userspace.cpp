// Userspace packages: a real .deb (made with dpkg-deb) laid out for an image.
#include "build/userspace.hpp"
#include "util/process.hpp"

#include <doctest/doctest.h>
#include <filesystem>
#include <fstream>

namespace fs = std::filesystem;
using namespace ksx;

namespace {

std::vector<manifest::RelocateRule> rules() {
    return {{"/lib", "/usr/lib", {}},
            {"/lib/firmware", "/usr/lib/firmware/updates", {}},
            {"/usr/lib/x86_64-linux-gnu/nvidia/current", "/usr/lib/x86_64-linux-gnu", {}}};
}

} // namespace

TEST_CASE("files outside /usr and /opt move by the longest rule or are left out") {
    CHECK(build::image_path("/usr/bin/zfs", rules()) == "/usr/bin/zfs");
    CHECK(build::image_path("/opt/x", rules()) == "/opt/x");
    CHECK(build::image_path("/lib/udev/rules.d/69-vdev.rules", rules()) ==
          "/usr/lib/udev/rules.d/69-vdev.rules");
    CHECK(build::image_path("/lib/firmware/nvidia/gsp.bin", rules()) ==
          "/usr/lib/firmware/updates/nvidia/gsp.bin");
    CHECK(build::image_path("/library/x", rules()) == "");
    CHECK(build::image_path("/etc/default/zfs", rules()) == "");
}

TEST_CASE("a rule moves files within /usr too, such as libraries out of a private directory") {
    CHECK(build::image_path("/usr/lib/x86_64-linux-gnu/nvidia/current/libcuda.so.1", rules()) ==
          "/usr/lib/x86_64-linux-gnu/libcuda.so.1");
    CHECK(build::image_path("/usr/lib/x86_64-linux-gnu/nvidia/currently", rules()) ==
          "/usr/lib/x86_64-linux-gnu/nvidia/currently");
}

TEST_CASE("a .deb is staged with relocated files, symlinks, and a report") {
    fs::create_directories("pkg/DEBIAN");
    std::ofstream("pkg/DEBIAN/control") << "Package: demo\nVersion: 1.0\nArchitecture: all\n"
                                           "Maintainer: x <x@example.org>\nDescription: demo\n";
    fs::create_directories("pkg/usr/bin");
    fs::create_directories("pkg/lib/udev");
    fs::create_directories("pkg/etc/default");
    std::ofstream("pkg/usr/bin/tool") << "#!/bin/sh\n";
    fs::permissions("pkg/usr/bin/tool", fs::perms::owner_all | fs::perms::group_read);
    std::ofstream("pkg/lib/udev/rule") << "x\n";
    fs::create_symlink("rule", "pkg/lib/udev/link");
    std::ofstream("pkg/etc/default/demo") << "y\n";
    REQUIRE(
        run_process({"dpkg-deb", "--root-owner-group", "-b", "pkg", "demo.deb"}, {}).exit_status ==
        0);

    auto staged = build::stage_package(fs::absolute("demo.deb"), rules(), fs::absolute("stage"));
    CHECK(fs::is_regular_file(staged.root / "usr/bin/tool"));
    CHECK((fs::status(staged.root / "usr/bin/tool").permissions() & fs::perms::owner_exec) !=
          fs::perms::none);
    CHECK(fs::is_regular_file(staged.root / "usr/lib/udev/rule"));
    CHECK(fs::read_symlink(staged.root / "usr/lib/udev/link") == "rule");
    CHECK_FALSE(fs::exists(staged.root / "etc"));
    CHECK(staged.left_out == std::vector<std::string>{"/etc/default/demo"});
    CHECK(staged.relocated == std::vector<std::string>{"/lib/udev/link -> /usr/lib/udev/link",
                                                       "/lib/udev/rule -> /usr/lib/udev/rule"});
}

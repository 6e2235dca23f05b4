#include "container/bwrap.hpp"
#include "container/container.hpp"
#include "util/error.hpp"
#include "util/file_io.hpp"

#include <algorithm>
#include <doctest/doctest.h>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace fs = std::filesystem;
using namespace ksx::container;

namespace {

// A tiny real rootfs: the usual merged-/usr links, with the host's /usr bound read-only in.
struct HostUsrRootfs {
    Rootfs rootfs;
    RunSpec spec;

    explicit HostUsrRootfs(const std::string& name) {
        fs::path root = fs::absolute(name);
        fs::create_directories(root / "usr");
        fs::create_directories(root / "etc");
        for (const char* dir : {"bin", "sbin", "lib", "lib64"}) {
            fs::create_symlink(std::string("usr/") + dir, root / dir);
        }
        rootfs = {root, "host /usr", "/usr/src/linux-headers-${KERNEL_RELEASE}"};
        spec.binds = {{"/usr", "/usr", false}};
        spec.log_file = fs::absolute(name + ".log");
    }

    int run(const std::string& script) {
        spec.argv = {"/bin/sh", "-c", script};
        return ksx::container::run(rootfs, spec);
    }
};

} // namespace

TEST_CASE("the bwrap command line isolates a read-only run") {
    Rootfs rootfs{"/cache/rootfs", "test", ""};
    RunSpec spec;
    spec.argv = {"make", "-j2"};
    spec.binds = {{"/home/dev/src", "/build/src", true}, {"/keys", "/keys", false}};
    spec.env = {"KERNEL_RELEASE=6.1.0-28-amd64", "EMPTY="};
    spec.cwd = "/build/src";
    CHECK(bwrap_argv(rootfs, spec, Privilege::User, "") ==
          std::vector<std::string>{"bwrap",
                                   "--ro-bind",
                                   "/cache/rootfs",
                                   "/",
                                   "--dev",
                                   "/dev",
                                   "--proc",
                                   "/proc",
                                   "--perms",
                                   "1777",
                                   "--tmpfs",
                                   "/tmp",
                                   "--tmpfs",
                                   "/run",
                                   "--unshare-user",
                                   "--unshare-ipc",
                                   "--unshare-pid",
                                   "--unshare-uts",
                                   "--unshare-cgroup-try",
                                   "--unshare-net",
                                   "--die-with-parent",
                                   "--new-session",
                                   "--clearenv",
                                   "--setenv",
                                   "PATH",
                                   "/usr/sbin:/usr/bin:/sbin:/bin",
                                   "--setenv",
                                   "HOME",
                                   "/tmp",
                                   "--setenv",
                                   "LANG",
                                   "C.UTF-8",
                                   "--setenv",
                                   "KERNEL_RELEASE",
                                   "6.1.0-28-amd64",
                                   "--setenv",
                                   "EMPTY",
                                   "",
                                   "--bind",
                                   "/home/dev/src",
                                   "/build/src",
                                   "--ro-bind",
                                   "/keys",
                                   "/keys",
                                   "--chdir",
                                   "/build/src",
                                   "--",
                                   "make",
                                   "-j2"});
}

TEST_CASE("as root a run drops capabilities unless it installs packages with the network") {
    Rootfs rootfs{"/cache/rootfs", "test", ""};
    RunSpec spec;
    spec.argv = {"true"};
    auto argv = bwrap_argv(rootfs, spec, Privilege::Root, "/etc/resolv.conf");
    CHECK(std::find(argv.begin(), argv.end(), "--unshare-user") == argv.end());
    auto drop = std::find(argv.begin(), argv.end(), "--cap-drop");
    REQUIRE(drop != argv.end());
    CHECK(*(drop + 1) == "ALL");

    spec.network = true;
    spec.writable_root = true;
    argv = bwrap_argv(rootfs, spec, Privilege::Root, "/etc/resolv.conf");
    CHECK(std::vector<std::string>(argv.begin(), argv.begin() + 4) ==
          std::vector<std::string>{"bwrap", "--bind", "/cache/rootfs", "/"});
    CHECK(std::find(argv.begin(), argv.end(), "--unshare-net") == argv.end());
    CHECK(std::find(argv.begin(), argv.end(), "--cap-drop") == argv.end());
    auto resolv = std::find(argv.begin(), argv.end(), "/etc/resolv.conf");
    REQUIRE(resolv != argv.end());
    CHECK(*(resolv - 1) == "--ro-bind");
    CHECK(*(resolv + 1) == "/etc/resolv.conf");
}

TEST_CASE("a command runs in the container with its environment, cwd and exit status") {
    HostUsrRootfs box("env-root");
    box.spec.env = {"GREETING=hello there"};
    box.spec.cwd = "/tmp";
    CHECK(box.run("echo \"$GREETING|$HOME|$PATH|$LANG|${USER-unset}|$(pwd)\"") == 0);
    CHECK(ksx::read_file(box.spec.log_file) ==
          "hello there|/tmp|/usr/sbin:/usr/bin:/sbin:/bin|C.UTF-8|unset|/tmp\n");
    CHECK(box.run("exit 7") == 7);
}

TEST_CASE("the container root is read-only and binds are the only way out") {
    HostUsrRootfs box("bind-root");
    fs::create_directories("data-in");
    std::ofstream("data-in/source") << "from the host\n";
    fs::create_directories("data-out");
    box.spec.binds.push_back({fs::absolute("data-in"), "/build/in", false});
    box.spec.binds.push_back({fs::absolute("data-out"), "/build/out", true});
    CHECK(box.run("cp /build/in/source /build/out/copy") == 0);
    CHECK(ksx::read_file("data-out/copy") == "from the host\n");
    CHECK(box.run("touch /etc/x") != 0);
    CHECK(box.run("touch /build/in/x") != 0);
    CHECK(box.run("touch /tmp/x && test -k /tmp") == 0);
    CHECK_FALSE(fs::exists("bind-root/etc/x"));
    CHECK_FALSE(fs::exists("data-in/x"));
    // The mount points were made in the rootfs, empty.
    CHECK(fs::is_empty("bind-root/build/in"));
}

TEST_CASE("a command sees no network unless asked for") {
    HostUsrRootfs box("net-root");
    box.spec.argv = {"/bin/sh", "-c", "tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d ' '"};
    CHECK(ksx::container::run(box.rootfs, box.spec) == 0);
    CHECK(ksx::read_file(box.spec.log_file) == "lo\n");
}

TEST_CASE("a command line longer than bubblewrap takes is refused with a clear error") {
    HostUsrRootfs box("many-root");
    box.spec.argv = {"/bin/true"};
    for (int i = 0; i < 9000; ++i) {
        box.spec.argv.push_back("linux-headers-" + std::to_string(i));
    }
    CHECK_THROWS_WITH_AS(ksx::container::run(box.rootfs, box.spec),
                         "cannot run /bin/true in the container with 9001 arguments: bubblewrap "
                         "takes at most 9000 in all",
                         ksx::Error);
    box.spec.argv.resize(8000);
    CHECK(ksx::container::run(box.rootfs, box.spec) == 0);
}

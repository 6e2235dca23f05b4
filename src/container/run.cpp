#include "container/bwrap.hpp"
#include "container/container.hpp"
#include "container/rootfs_path.hpp"
#include "util/error.hpp"
#include "util/process.hpp"
#include "util/unique_fd.hpp"

#include <atomic>
#include <fcntl.h>
#include <filesystem>
#include <unistd.h>

namespace fs = std::filesystem;

namespace ksx::container {

namespace {

constexpr const char* kHostResolvConf = "/etc/resolv.conf";

std::atomic<std::uint64_t> runs{0};

// A read-only root cannot grow mount points, so missing ones are made in the rootfs on the host
// first: /dev, /proc, /tmp, /run, and an empty directory (or file) for each bind.
void create_mount_points(const Rootfs& rootfs, const RunSpec& spec) {
    for (const char* dir : {"dev", "proc", "tmp", "run"}) {
        std::error_code ec;
        if (!fs::exists(fs::symlink_status(rootfs.root / dir, ec))) {
            fs::create_directory(rootfs.root / dir, ec);
            if (ec) {
                throw Error("failed to create the mount point " + (rootfs.root / dir).string() +
                            ": " + ec.message());
            }
        }
    }
    for (const auto& bind : spec.binds) {
        if (!bind.inside.starts_with('/')) {
            throw Error("internal error: bind target \"" + bind.inside + "\" is not absolute");
        }
        auto target = host_path(rootfs.root, bind.inside);
        std::error_code ec;
        if (fs::exists(fs::symlink_status(target, ec))) {
            continue;
        }
        bool directory = fs::is_directory(bind.host, ec);
        fs::create_directories(directory ? target : target.parent_path(), ec);
        if (ec) {
            throw Error("failed to create the mount point " + target.string() + ": " +
                        ec.message());
        }
        if (!directory) {
            UniqueFd fd(::open(target.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644));
            if (!fd) {
                throw_errno("failed to create the mount point " + target.string());
            }
        }
    }
}

} // namespace

std::vector<std::string> bwrap_argv(const Rootfs& rootfs, const RunSpec& spec, Privilege privilege,
                                    const std::string& resolv_conf) {
    std::vector<std::string> argv{"bwrap"};
    auto add = [&argv](std::initializer_list<std::string> args) {
        argv.insert(argv.end(), args.begin(), args.end());
    };
    add({spec.writable_root ? "--bind" : "--ro-bind", fs::absolute(rootfs.root).string(), "/"});
    // /tmp is 1777 as usual: apt drops to _apt and fails its signature checks otherwise.
    add({"--dev", "/dev", "--proc", "/proc", "--perms", "1777", "--tmpfs", "/tmp", "--tmpfs",
         "/run"});
    // --unshare-all, spelled out: as root a user namespace would map uid 0 alone.
    if (privilege == Privilege::User) {
        add({"--unshare-user"});
    }
    add({"--unshare-ipc", "--unshare-pid", "--unshare-uts", "--unshare-cgroup-try"});
    if (!spec.network) {
        add({"--unshare-net"});
    } else if (!resolv_conf.empty()) {
        add({"--ro-bind", resolv_conf, "/etc/resolv.conf"});
    }
    if (privilege == Privilege::Root && !spec.writable_root) {
        add({"--cap-drop", "ALL"}); // a build never needs to mount or load modules
    }
    add({"--die-with-parent", "--new-session", "--clearenv", "--setenv", "PATH", kContainerPath,
         "--setenv", "HOME", "/tmp", "--setenv", "LANG", "C.UTF-8"});
    for (const auto& entry : spec.env) {
        auto eq = entry.find('=');
        if (eq == std::string::npos || eq == 0) {
            throw Error("internal error: environment entry \"" + entry + "\" is not NAME=value");
        }
        add({"--setenv", entry.substr(0, eq), entry.substr(eq + 1)});
    }
    for (const auto& bind : spec.binds) {
        add({bind.writable ? "--bind" : "--ro-bind", fs::absolute(bind.host).string(),
             bind.inside});
    }
    add({"--chdir", spec.cwd, "--"});
    argv.insert(argv.end(), spec.argv.begin(), spec.argv.end());
    return argv;
}

int run(const Rootfs& rootfs, const RunSpec& spec) {
    if (spec.argv.empty()) {
        throw Error("internal error: no command to run in the container");
    }
    create_mount_points(rootfs, spec);
    ++runs;
    std::string resolv_conf;
    std::error_code ec;
    // Only where the container has a file to mount over: a read-only root cannot grow one.
    if (spec.network && fs::exists(kHostResolvConf, ec) &&
        (spec.writable_root || fs::is_regular_file(rootfs.root / "etc/resolv.conf", ec))) {
        resolv_conf = kHostResolvConf;
    }
    auto privilege = ::geteuid() == 0 ? Privilege::Root : Privilege::User;
    ProcessOptions options;
    if (!spec.log_file.empty()) {
        options.log_file = spec.log_file;
    }
    auto argv = bwrap_argv(rootfs, spec, privilege, resolv_conf);
    if (argv.size() > kBwrapMaxArgs) {
        throw Error("cannot run " + spec.argv.front() + " in the container with " +
                    std::to_string(spec.argv.size()) + " arguments: bubblewrap takes at most " +
                    std::to_string(kBwrapMaxArgs) + " in all");
    }
    return run_process(argv, options).exit_status;
}

std::uint64_t run_count() {
    return runs.load();
}

} // namespace ksx::container

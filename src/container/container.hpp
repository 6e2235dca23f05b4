// The developer container: a root filesystem holding compilers and kernel headers, and a way
// to run commands inside it without a container daemon (bubblewrap).
#pragma once

#include "container/container_use.hpp"
#include "manifest/manifest.hpp"
#include "util/progress.hpp"

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace ksx::container {

// A materialized developer container.
struct Rootfs {
    std::filesystem::path root; // the root directory on the host
    std::string description;    // for messages: "debian bookworm (cache 3f2a...)"
    std::string kernel_source;  // pattern with ${KERNEL_RELEASE}, from the manifest
    // What the container is, for the build cache's key: the default container's recipe key,
    // or the cache directory named by a tarball's, OCI manifest's or OSTree commit's digest
    // (a plain directory: its path; its contents are in the plan's key).
    std::string identity = {};
    // Containers that differ only in their kernels' headers (the same compilers) share this
    // name, and with it their compiler cache.
    std::string family = {};
    // A cached default container: this run's use of it, so no refresh replaces it meanwhile.
    ContainerUse in_use = {};
};

struct PrepareOptions {
    std::filesystem::path cache_dir; // where default containers and extracted tarballs live
    bool refresh = false;            // rebuild a cached default container
    Progress& progress = Progress::quiet();
};

// Creates or reuses the container the manifest names, with headers for every Debian kernel
// the manifest asks for. Failures throw Error naming what failed and the log to read.
Rootfs prepare(const manifest::ContainerSpec& spec,
               const std::vector<manifest::KernelSpec>& kernels, const PrepareOptions& options);

// The kernel release a spec stands for in this container: a literal release is checked to have
// a build tree; a package selector is resolved from the container's dpkg database.
std::string resolve_kernel(const Rootfs& rootfs, const manifest::KernelSpec& kernel);

// The kernel build tree for `release`, as a path inside the container.
std::string kernel_source_in_container(const Rootfs& rootfs, const std::string& release);

struct Bind {
    std::filesystem::path host;
    std::string inside; // absolute path inside the container
    bool writable = false;
};

// PATH inside the container unless a RunSpec's env sets another.
inline constexpr const char* kContainerPath = "/usr/sbin:/usr/bin:/sbin:/bin";

struct RunSpec {
    std::vector<std::string> argv;
    std::vector<Bind> binds;
    std::vector<std::string> env; // "NAME=value"
    std::string cwd = "/";
    std::filesystem::path log_file; // stdout+stderr appended here
    bool network = false;
    bool writable_root = false; // only while installing packages into the container
};

// Runs a command in the container (read-only root, no network, nothing of the host but the
// binds); returns its exit status. Missing mount points of binds are first made in the rootfs
// (a read-only root cannot grow them).
int run(const Rootfs& rootfs, const RunSpec& spec);

// How many commands this process has run in containers so far (for `build --json`: a build
// served from the build cache runs none).
std::uint64_t run_count();

} // namespace ksx::container

#include "container/container.hpp"
#include "container/debian_container.hpp"
#include "container/dpkg_status.hpp"
#include "container/oci_container.hpp"
#include "container/ostree_container.hpp"
#include "container/rootfs_path.hpp"
#include "container/tar_extract.hpp"
#include "contract/image_name.hpp"
#include "util/entry_lock.hpp"
#include "util/error.hpp"
#include "util/file_io.hpp"
#include "util/sha256.hpp"

#include <filesystem>

namespace fs = std::filesystem;

namespace ksx::container {

namespace {

constexpr std::string_view kReleaseVariable = "${KERNEL_RELEASE}";

// "file:line:col: error: " when the value came from a file, else "error: ".
std::string located(const manifest::Location& where) {
    if (where.file.empty()) {
        return "error: ";
    }
    return where.file.string() + ":" + std::to_string(where.line) + ":" +
           std::to_string(where.column) + ": error: ";
}

// `shown` names the container in the message: its path, or the image it came from.
void check_has_shell(const fs::path& root, const manifest::ContainerSpec& spec,
                     const std::string& shown) {
    std::error_code ec;
    for (const char* shell : {"/bin/sh", "/usr/bin/sh"}) {
        if (fs::exists(host_path(root, shell), ec)) {
            return;
        }
    }
    throw InputError(located(spec.where) + "container: " + shown +
                     " is not a root filesystem: it has no /bin/sh");
}

Rootfs from_directory(const manifest::ContainerSpec& spec) {
    std::error_code ec;
    if (!fs::is_directory(spec.path, ec)) {
        throw InputError(located(spec.where) + "container: " + spec.path.string() +
                         " is not a directory");
    }
    check_has_shell(spec.path, spec, spec.path.string());
    auto id = "directory " + spec.path.string();
    return {spec.path, id, spec.kernel_source, id, id};
}

Rootfs from_tarball(const manifest::ContainerSpec& spec, const PrepareOptions& options) {
    std::error_code ec;
    if (!fs::is_regular_file(spec.path, ec)) {
        throw InputError(located(spec.where) + "container: " + spec.path.string() +
                         " is not a file");
    }
    const auto digest = sha256_file_hex(spec.path);
    const auto entry = options.cache_dir / "tarballs" / digest;
    const auto root = entry / "rootfs";
    if (!fs::exists(fs::symlink_status(root, ec))) {
        // Another run extracting the same tarball finishes first; then its rootfs is used.
        EntryLock lock(options.cache_dir, "tarball-" + digest);
        if (!fs::exists(fs::symlink_status(root, ec))) {
            options.progress.step("container: extracting " + spec.path.filename().string());
            extract_tarball(spec.path, root);
        }
    }
    check_has_shell(root, spec, spec.path.string());
    return {root, "tarball " + spec.path.string() + " (cache " + digest.substr(0, 12) + ")",
            spec.kernel_source, "tarball " + digest, "tarball " + digest};
}

// The linux-headers-<release> package `kernel.value` stood for in `kernel.suite` when kmod-sysext
// made the container.
std::string offered_headers_package(const Rootfs& rootfs, const manifest::KernelSpec& kernel,
                                    const std::string& shown) {
    const auto record = host_path(rootfs.root, suite_package_record(kernel.value, kernel.suite));
    std::error_code ec;
    if (!fs::is_regular_file(record, ec)) {
        throw InputError(located(kernel.where) + "kernel package " + shown +
                         ": the developer container does not say what " + kernel.suite +
                         " offered (a suite is for the default Debian container, which "
                         "records it when it installs the headers)");
    }
    for (const auto& offered : parse_dpkg_status(read_file(record))) {
        if (offered.name == kernel.value) {
            auto found = release_headers_package(offered);
            if (found.name.empty()) {
                throw InputError(located(kernel.where) + "kernel package " + shown + ": " +
                                 found.problem);
            }
            return found.name;
        }
    }
    throw InputError(located(kernel.where) + "kernel package " + shown + ": " + record.string() +
                     " does not describe " + kernel.value);
}

} // namespace

Rootfs prepare(const manifest::ContainerSpec& spec,
               const std::vector<manifest::KernelSpec>& kernels, const PrepareOptions& options) {
    switch (spec.kind) {
    case manifest::ContainerSpec::Kind::Directory:
        return from_directory(spec);
    case manifest::ContainerSpec::Kind::Tarball:
        return from_tarball(spec, options);
    case manifest::ContainerSpec::Kind::Oci:
    case manifest::ContainerSpec::Kind::Ostree: {
        const bool oci = spec.kind == manifest::ContainerSpec::Kind::Oci;
        auto image = oci ? oci_rootfs(spec.oci, options) : ostree_rootfs(spec.ostree, options);
        check_has_shell(image.root, spec, image.description);
        // The cache directory's name holds the manifest digest or the commit.
        auto id = image.root.parent_path().filename().string();
        return {image.root, image.description, spec.kernel_source, id, id};
    }
    case manifest::ContainerSpec::Kind::Debian:
        break;
    }
    auto debian = ensure_debian_rootfs(spec.debian, header_packages(kernels), options);
    return {debian.root,
            "debian " + spec.debian.suite + " (cache " + debian.key + ")",
            spec.kernel_source,
            "debian-" + debian.key,
            "debian-" + cache_key(spec.debian, {}),
            debian.use};
}

std::string kernel_source_in_container(const Rootfs& rootfs, const std::string& release) {
    std::string out = rootfs.kernel_source;
    for (auto at = out.find(kReleaseVariable); at != std::string::npos;
         at = out.find(kReleaseVariable, at + release.size())) {
        out.replace(at, kReleaseVariable.size(), release);
    }
    return out;
}

std::string resolve_kernel(const Rootfs& rootfs, const manifest::KernelSpec& kernel) {
    std::string release = kernel.value;
    if (kernel.kind == manifest::KernelSpec::Kind::DebianPackage) {
        const auto status_file = rootfs.root / "var/lib/dpkg/status";
        std::error_code ec;
        if (!fs::exists(status_file, ec)) {
            throw InputError(located(kernel.where) + "kernel package " + kernel.value +
                             ": the developer container has no dpkg database "
                             "(/var/lib/dpkg/status)");
        }
        auto package = kernel.value;
        auto shown = kernel.value;
        if (!kernel.suite.empty()) {
            // What the suite offered when the container was made (see suite_package_record).
            shown += "/" + kernel.suite;
            package = offered_headers_package(rootfs, kernel, shown);
        }
        auto found = headers_release(parse_dpkg_status(read_file(status_file)), package);
        if (found.release.empty()) {
            throw InputError(located(kernel.where) + "kernel package " + shown + ": " +
                             found.problem);
        }
        release = found.release;
        // The release names the image and a directory in it: the activator's rule must hold.
        if (!contract::is_kernel_release(release)) {
            throw InputError(located(kernel.where) + "kernel package " + kernel.value +
                             ": release \"" + release +
                             "\" is not a valid kernel release (letters, digits and \"._+~-\", "
                             "at most " +
                             std::to_string(contract::kMaxKernelRelease) + " characters)");
        }
    }
    const auto tree = kernel_source_in_container(rootfs, release);
    std::error_code ec;
    if (!fs::is_regular_file(host_path(rootfs.root, tree + "/Makefile"), ec)) {
        throw InputError(located(kernel.where) + "kernel " + release +
                         ": no build tree in the developer container (looked for " + tree + ")");
    }
    return release;
}

} // namespace ksx::container

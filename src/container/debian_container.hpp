// The default developer container: a Debian rootfs made with mmdebstrap, cached by recipe.
#pragma once

#include "container/container.hpp"
#include "container/container_use.hpp"
#include "manifest/manifest.hpp"

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace ksx::container {

// Packages every default container has: what kbuild needs for out-of-tree modules, and ccache,
// the compiler cache every kernel's build shares (build/compiler_cache.hpp).
inline constexpr const char* kBasePackages =
    "gcc,make,libc6-dev,bc,kmod,libelf-dev,ca-certificates,ccache";

// The headers packages for `kernels`, sorted and unique: linux-headers-<release> for a release,
// the package itself for a package selector, as "package/suite" when it names a suite.
std::vector<std::string> header_packages(const std::vector<manifest::KernelSpec>& kernels);

// Where a container keeps what the archive offered as "package/suite" when it was made (the
// package's `apt-cache show` stanza), as a path inside the container. A metapackage of another
// suite is not installed (it may be installed from the container's own suite too): the
// linux-headers-<release> package it depended on is, and this record says which one.
std::string suite_package_record(const std::string& package, const std::string& suite);

// An apt option "Name=value" of the manifest as apt.conf writes it: `Name "value";`.
std::string apt_conf_line(const std::string& option);

// The mmdebstrap command that makes a container's root filesystem in `root`.
std::vector<std::string> mmdebstrap_argv(const manifest::DebianContainer& debian,
                                         const std::filesystem::path& root);

// The apt-get install command lines that install `packages` in the container: as few as the
// container's command line allows (bubblewrap's limit), in the order given.
std::vector<std::vector<std::string>> install_commands(const std::vector<std::string>& packages);

// Everything that decides a container's contents, as canonical text (lists sorted, unique).
std::string recipe_text(const manifest::DebianContainer& debian,
                        const std::vector<std::string>& headers);

// The first 16 hex digits of the SHA-256 of recipe_text().
std::string cache_key(const manifest::DebianContainer& debian,
                      const std::vector<std::string>& headers);

// etc/apt/sources.list: the suite and its -updates from the mirror, -security from Debian's
// security archive (where the current kernels are); unstable suites have neither.
std::string sources_list(const manifest::DebianContainer& debian);

// A complete cached container made from the same recipe but other headers packages.
struct SiblingContainer {
    std::filesystem::path root;
    std::string key;
    std::vector<std::string> missing; // of the wanted headers packages, the ones it lacks
};

// Among the complete containers in `containers_dir` whose recipe equals ours but for the
// headers, the one that lacks the fewest of `headers` (then: has the fewest others), if any.
std::optional<SiblingContainer> find_sibling(const std::filesystem::path& containers_dir,
                                             const manifest::DebianContainer& debian,
                                             const std::vector<std::string>& headers);

struct DebianRootfs {
    std::filesystem::path root; // <cache>/containers/debian-<key>/rootfs
    std::string key;
    ContainerUse use; // held while the run may compile in it
};

// Reuses the complete cached container for this recipe, or creates it (needs root): as a copy
// of a sibling container with the missing headers installed when there is one (a kernel added
// to a manifest costs its headers, not a new container), else with mmdebstrap.
DebianRootfs ensure_debian_rootfs(const manifest::DebianContainer& debian,
                                  const std::vector<std::string>& headers,
                                  const PrepareOptions& options);

} // namespace ksx::container

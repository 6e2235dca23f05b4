// What a node needs on first boot: the images in the activator's store, the activator, its
// units and the verity certificate; written as Ignition or Butane by the emitters.
#pragma once

#include "manifest/manifest.hpp"

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace ksx::ignition {

struct NodeFile {
    std::string path; // absolute, on the node
    unsigned mode = 0644;
    std::string source; // URL to fetch, or "" when `text` is the content
    std::string sha256; // verification of a fetched file; "" for none
    std::string text;   // inline content when source is ""
};

struct NodeUnit {
    std::string name;
    std::string contents;
    // true: enabled at first boot (the unit has an [Install] section); unset: left as it is,
    // for a unit that another one starts (the prefetch service, started by its timer).
    std::optional<bool> enabled = true;
};

struct NodeConfig {
    std::vector<std::string> directories; // created with mode 0755
    std::vector<NodeFile> files;
    std::vector<NodeUnit> units;
};

struct NodeOptions {
    std::string base_url;                       // where the release is served (no trailing '/')
    std::string bin_dir = "/opt/bin";           // /usr is read-only on Flatcar and Fedora CoreOS
    std::optional<std::string> certificate_pem; // for /etc/verity.d/<name>.crt
    // false: the node's OS image already has the activator in bin_dir; only its units are set.
    bool with_activator = true;
    // Also the prefetch timer: images for every kernel installed on the node are fetched from
    // base_url ahead of the reboot into that kernel.
    bool prefetch_timer = false;
    // Only images for this OS (os-release ID, VERSION_ID or SYSEXT_LEVEL, and the systemd
    // architecture name); "" takes any.
    std::string os_id;
    std::string os_version;
    std::string architecture;
};

// The activator's units with ExecStart= in `bin_dir`.
std::vector<NodeUnit> activator_units(const std::string& bin_dir);

// The prefetch service and its timer, with ExecStart= in `bin_dir`; the service reads the
// release URL from prefetch_config_path.
std::vector<NodeUnit> prefetch_units(const std::string& bin_dir);
inline constexpr const char* prefetch_config_path = "/etc/kmod-sysext/prefetch.conf";

// From a release directory made by `publish`: every image of its index.json for the node's OS
// (options.os_id / os_version / architecture) and the sidecars, each with its sha256, and the
// activator with its sha256. InputError when no image is for that OS, or when the release
// carries no activator and options.with_activator is set. `warnings` gets what the operator should
// know: signed images without a certificate for the node.
NodeConfig node_config_from_release(const std::filesystem::path& release,
                                    const NodeOptions& options, std::vector<std::string>& warnings);

// From a manifest: the images of its literal kernel releases of the targets for the options'
// OS (InputError when none is), fetched unverified (hashes are known only
// once built: prefer a release directory). `package:` kernels are left out and named in
// `skipped`.
NodeConfig node_config_from_manifest(const manifest::Manifest& manifest, const NodeOptions& options,
                                     std::vector<std::string>& skipped);

} // namespace ksx::ignition

// The `status` verb: store, selection, merged extensions and their modules.
#pragma once

#include "activator/context.hpp"
#include "activator/image_check.hpp"
#include "activator/image_name.hpp"
#include "activator/kernel_trust.hpp"
#include "activator/log.hpp"
#include "activator/module_signer.hpp"

#include <optional>
#include <string>
#include <vector>

namespace ksx::activator {

struct ModuleState {
    std::string name;
    bool boot = true;
    bool loaded = false; // /sys/module/<name with '-' as '_'> exists
};

struct ExtensionStatus {
    std::string name;
    std::vector<ImageName> images;     // in the store
    std::vector<std::string> selected; // link targets from the marker (image first)
    bool merged = false;               // usr/lib/extension-release.d/extension-release.<name>
    std::string merged_version;        // KMOD_SYSEXT_VERSION of the merged image
    std::string merged_kernel;         // KMOD_SYSEXT_KERNEL of the merged image
    std::string merged_userspace;      // its KMOD_SYSEXT_USERSPACE: the shared image it needs
    std::vector<ModuleState> modules;  // from the merged modules.load
    std::string problem;               // why the modules could not be listed, if so
    // What the last `select` found for the image it considered for this kernel, if any.
    std::optional<ImageCheck> verification;
    std::string verified_image;
    // Who signed the merged modules and whether the kernel trusts that key (status_trust.hpp).
    std::optional<ModuleSigner> module_signer;
};

struct Status {
    std::string kernel;
    std::string store;
    std::vector<ExtensionStatus> extensions; // sorted by name
    std::optional<KernelTrust> kernel_trust; // Secure Boot, lockdown, keys (status_trust.hpp)
};

// Gathers the status; problems are logged and reported, never thrown.
Status gather_status(const Context& context, Log& log);

std::string format_status_text(const Status& status);
std::string format_status_json(const Status& status);

} // namespace ksx::activator

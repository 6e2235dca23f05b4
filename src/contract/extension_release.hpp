// An image's usr/lib/extension-release.d/extension-release.<name>: what systemd-sysext matches
// against the host's os-release (ID, VERSION_ID or SYSEXT_LEVEL, ARCHITECTURE) and what the
// activator, `inspect`, `verify` and `publish` read of the image (KMOD_SYSEXT_NAME, _VERSION,
// _KERNEL, _USERSPACE). Written by the builder, read by everything else, with this one definition.
#pragma once

#include "util/os_release.hpp"

#include <string>
#include <string_view>

namespace ksx::contract {

// "usr/lib/extension-release.d/extension-release.<sysext_name>", relative to the image's root:
// "<name>" for a modules image, "<name>-userspace" for a shared one (ImageName::sysext_name()).
std::string extension_release_path(std::string_view sysext_name);

struct ExtensionRelease {
    OsIdentity os; // with SYSEXT_LEVEL set, VERSION_ID is not written
    std::string name;
    std::string version; // the image's version
    std::string kernel;  // the kernel release the modules are for; empty: a shared image
    // A modules image of a split build: the version of the shared "<name>-userspace" image it
    // needs (KMOD_SYSEXT_USERSPACE). Empty: not split.
    std::string userspace;
};

// The file's text: ID, SYSEXT_LEVEL or VERSION_ID, ARCHITECTURE, then the KMOD_SYSEXT_ keys,
// one "KEY=value" line each; KMOD_SYSEXT_KERNEL and KMOD_SYSEXT_USERSPACE only when set.
std::string format_extension_release(const ExtensionRelease& release);

// The keys above from "KEY=value" text (util/key_value.hpp); missing keys stay empty, others
// are ignored.
ExtensionRelease parse_extension_release(std::string_view text);

} // namespace ksx::contract

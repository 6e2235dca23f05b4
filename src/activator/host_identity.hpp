// Which OS the node runs and which OS an image is for, as systemd-sysext compares them.
#pragma once

#include "activator/context.hpp"
#include "contract/extension_release.hpp"
#include "util/os_release.hpp"

#include <filesystem>
#include <optional>
#include <string>

namespace ksx::activator {

// The node's identity: <root>/etc/os-release, else <root>/usr/lib/os-release (the files systemd
// reads), with the architecture of the running kernel (uname); nullopt when neither file
// exists (then images are not checked against it).
std::optional<OsIdentity> read_host_identity(const Context& context);

// An image's identity: its usr/lib/extension-release.d/extension-release.<name>. Throws Error
// when the image cannot be read or has no such file.
OsIdentity read_image_identity(const std::filesystem::path& image, const std::string& name);
// The whole extension-release.<name> of `image` (its identity and KMOD_SYSEXT_ keys); the same
// errors.
contract::ExtensionRelease read_image_release(const std::filesystem::path& image,
                                              const std::string& name);

} // namespace ksx::activator

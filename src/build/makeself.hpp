// Self-extracting installers made with makeself (NVIDIA's `.run` files among them).
#pragma once

#include "container/container.hpp"

#include <filesystem>

namespace ksx::build {

// True when `file` is a makeself installer: a shell script whose header names makeself.
bool is_makeself_installer(const std::filesystem::path& file);

// Unpacks `installer` into `destination` (must not exist) by running it with its own
// `--extract-only --target` inside the developer container, network off; its output goes to
// `log`. Throws LoggedError naming `field`, carrying the log, when it fails.
void extract_makeself(const container::Rootfs& rootfs, const std::filesystem::path& installer,
                      const std::filesystem::path& destination, const std::filesystem::path& log,
                      const std::string& field);

} // namespace ksx::build

// Paths inside a container, seen from the host.
#pragma once

#include <filesystem>
#include <string>

namespace ksx::container {

// The host path of `inside` (an absolute path in the container), following symbolic links as the
// container would: absolute targets start at `root` and ".." stops at it. Components that do not
// exist are appended as they are.
std::filesystem::path host_path(const std::filesystem::path& root, const std::string& inside);

} // namespace ksx::container

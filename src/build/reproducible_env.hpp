// What makes a module build reproducible inside the developer container, as the kernel's
// Documentation/kbuild/reproducible-builds.rst describes it.
#pragma once

#include "container/container.hpp"

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace ksx::build {

// Where the per-kernel tools directory appears inside the container (first on PATH).
inline constexpr const char* kToolsInside = "/build/tools";

// SOURCE_DATE_EPOCH, KBUILD_BUILD_TIMESTAMP (which also keeps 6.12's Makefile.btf from running
// pahole with -j), KBUILD_BUILD_USER/HOST, and PATH with kToolsInside first.
std::vector<std::string> reproducible_environment(std::uint32_t epoch);

// Writes into `tools` what goes first on PATH: when the container has /usr/bin/pahole, a
// `pahole` that drops its jobs option (-j, -jN, --jobs[=N]). Kernels up to 6.11 pass -j to pahole
// (1.22 and later) for module BTF, and its parallel encoder orders types differently from run to
// run before pahole 1.27. Returns whether the wrapper was written.
bool write_reproducible_tools(const container::Rootfs& rootfs, const std::filesystem::path& tools);

} // namespace ksx::build

// ccache inside the developer container: one cache directory per container family (under
// kmod-sysext's cache), shared by every kernel and every run, so what does not depend on the
// kernel (NVIDIA's OS-agnostic core) is compiled once.
#pragma once

#include "container/container.hpp"

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace ksx::build {

// Where the compiler cache and a kernel's statistics log appear inside the container.
inline constexpr const char* kCompilerCacheInside = "/build/ccache";
inline constexpr const char* kCompilerStatsInside = "/build/ccache-stats";

// What ccache did for one kernel's build, from its statistics log.
struct CompilerCacheStats {
    bool used = false;          // the build ran its compilers through ccache
    std::uint64_t hits = 0;     // compilations answered from the cache
    std::uint64_t misses = 0;   // compilations run and stored
    std::uint64_t uncached = 0; // calls ccache could not cache (linking, conftest's -E, ...)
};

// The compiler cache directory of `rootfs`'s family under `cache`.
std::filesystem::path compiler_cache_dir(const std::filesystem::path& cache,
                                         const container::Rootfs& rootfs);

// When the container has /usr/bin/ccache, writes into `tools` (first on PATH) a link to it
// named like each C compiler of the container's /usr/bin (cc, gcc, gcc-14,
// x86_64-linux-gnu-gcc-14, clang, ...): ccache then runs the real compiler found after it on
// PATH, whatever name a Makefile uses. Returns whether it did.
bool write_compiler_links(const container::Rootfs& rootfs, const std::filesystem::path& tools);

// The compiler names write_compiler_links() wraps, among `names` (sorted, unique).
std::vector<std::string> compiler_names(const std::vector<std::string>& names);

// ccache's settings for a build. Reproducible: the compiler is identified by its contents, the
// directory a compiler runs in stays in the hash (debug info names it), paths are not rewritten
// (no base_dir: the sources are at the same path for every kernel), and ccache runs the
// compiler on the original source, so an object from the cache is the one the compiler makes.
std::vector<std::string> compiler_cache_environment();

// Counts a statistics log written with CCACHE_STATSLOG ("# file" lines, then one counter name
// per line); an absent log counts nothing.
CompilerCacheStats read_compiler_cache_stats(const std::filesystem::path& log);

} // namespace ksx::build

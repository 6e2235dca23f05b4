#include "build/compiler_cache.hpp"

#include "util/error.hpp"
#include "util/file_io.hpp"

#include <algorithm>
#include <regex>
#include <set>
#include <sstream>

namespace ksx::build {

namespace fs = std::filesystem;

fs::path compiler_cache_dir(const fs::path& cache, const container::Rootfs& rootfs) {
    auto family = rootfs.family.empty() ? rootfs.identity : rootfs.family;
    // A family is a short name of ours; keep anything else from naming a path.
    std::replace_if(
        family.begin(), family.end(),
        [](char c) { return !(std::isalnum(static_cast<unsigned char>(c)) || c == '-'); }, '_');
    return cache / "ccache" / family;
}

std::vector<std::string> compiler_names(const std::vector<std::string>& names) {
    // cc, c++, gcc, g++, clang, clang++, each optionally versioned, and the triplet-prefixed
    // names Debian's kernel headers use (x86_64-linux-gnu-gcc-14).
    static const std::regex compiler(
        R"(^([a-z0-9_]+-linux-[a-z0-9_]+-)?(cc|c\+\+|gcc|g\+\+|clang|clang\+\+)(-[0-9][0-9.]*)?$)");
    std::set<std::string> found;
    for (const auto& name : names) {
        if (std::regex_match(name, compiler)) {
            found.insert(name);
        }
    }
    return {found.begin(), found.end()};
}

bool write_compiler_links(const container::Rootfs& rootfs, const fs::path& tools) {
    const auto bin = rootfs.root / "usr/bin";
    std::error_code ec;
    if (!fs::exists(fs::symlink_status(bin / "ccache", ec))) {
        return false;
    }
    std::vector<std::string> names;
    for (const auto& entry : fs::directory_iterator(bin)) {
        names.push_back(entry.path().filename().string());
    }
    fs::create_directories(tools);
    for (const auto& name : compiler_names(names)) {
        fs::create_symlink("/usr/bin/ccache", tools / name);
    }
    return true;
}

std::vector<std::string> compiler_cache_environment() {
    return {std::string("CCACHE_DIR=") + kCompilerCacheInside,
            std::string("CCACHE_STATSLOG=") + kCompilerStatsInside + "/log",
            "CCACHE_COMPILERCHECK=content", "CCACHE_MAXSIZE=8G", "CCACHE_UMASK=022"};
}

CompilerCacheStats read_compiler_cache_stats(const fs::path& log) {
    CompilerCacheStats stats;
    std::error_code ec;
    if (!fs::is_regular_file(log, ec)) {
        return stats;
    }
    stats.used = true;
    std::istringstream in(read_file(log));
    bool counted = true; // whether the current call has been counted
    auto finish_call = [&] {
        if (!counted) {
            ++stats.uncached; // a call with no result counter: not cacheable
        }
    };
    for (std::string line_text; std::getline(in, line_text);) {
        if (line_text.starts_with("# ")) {
            finish_call();
            counted = false;
        } else if (line_text == "direct_cache_hit" || line_text == "preprocessed_cache_hit") {
            ++stats.hits;
            counted = true;
        } else if (line_text == "cache_miss") {
            ++stats.misses;
            counted = true;
        }
    }
    finish_call();
    return stats;
}

} // namespace ksx::build

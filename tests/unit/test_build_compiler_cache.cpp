// ccache in the developer container: which compilers are wrapped, its settings, its statistics.
#include "build/compiler_cache.hpp"
#include "util/atomic_file.hpp"

#include <algorithm>
#include <doctest/doctest.h>
#include <filesystem>
#include <fstream>

namespace fs = std::filesystem;
using namespace ksx::build;

TEST_CASE("every C compiler name a Makefile may use is wrapped, and nothing else") {
    auto names = compiler_names({"cc", "c++", "gcc", "gcc-14", "g++-12", "x86_64-linux-gnu-gcc-14",
                                 "x86_64-linux-gnu-gcc", "clang", "clang-19", "gcc-ar-14", "gcc-nm",
                                 "x86_64-linux-gnu-gcc-ar-14", "ccache", "pahole", "ld",
                                 "x86_64-linux-gnu-ld", "gcov-14", "cpp", "make"});
    CHECK(names == std::vector<std::string>{"c++", "cc", "clang", "clang-19", "g++-12", "gcc",
                                            "gcc-14", "x86_64-linux-gnu-gcc",
                                            "x86_64-linux-gnu-gcc-14"});
}

TEST_CASE("compiler links are written only for a container that has ccache") {
    ksx::container::Rootfs rootfs{fs::absolute("rootfs"), "test", ""};
    fs::create_directories(rootfs.root / "usr/bin");
    for (const char* name : {"gcc-14", "x86_64-linux-gnu-gcc-14", "ld", "cc"}) {
        std::ofstream(rootfs.root / "usr/bin" / name) << "";
    }
    CHECK_FALSE(write_compiler_links(rootfs, "tools-none"));
    CHECK_FALSE(fs::exists("tools-none/gcc-14"));

    std::ofstream(rootfs.root / "usr/bin/ccache") << "";
    REQUIRE(write_compiler_links(rootfs, "tools"));
    for (const char* name : {"gcc-14", "x86_64-linux-gnu-gcc-14", "cc"}) {
        CHECK(fs::read_symlink(fs::path("tools") / name) == "/usr/bin/ccache");
    }
    CHECK_FALSE(fs::exists(fs::symlink_status("tools/ld")));
    CHECK_FALSE(fs::exists(fs::symlink_status("tools/ccache")));
}

TEST_CASE("ccache is set up for reproducible objects") {
    auto env = compiler_cache_environment();
    auto has = [&env](const std::string& entry) {
        return std::find(env.begin(), env.end(), entry) != env.end();
    };
    CHECK(has("CCACHE_DIR=/build/ccache"));
    CHECK(has("CCACHE_STATSLOG=/build/ccache-stats/log"));
    CHECK(has("CCACHE_COMPILERCHECK=content"));
    // Neither rewritten paths nor a directory left out of the hash: both change what the
    // compiler writes into objects (file names, debug info) behind the cache's back.
    for (const auto& entry : env) {
        CHECK_FALSE(entry.starts_with("CCACHE_BASEDIR="));
        CHECK_FALSE(entry.starts_with("CCACHE_NOHASHDIR="));
        CHECK_FALSE(entry.starts_with("CCACHE_SLOPPINESS="));
    }
}

TEST_CASE("a statistics log counts hits, misses and calls that could not be cached") {
    CHECK_FALSE(read_compiler_cache_stats("absent.log").used);
    ksx::write_file_atomic("stats.log", "# /build/src/a.c\n"
                                        "cache_miss\n"
                                        "direct_cache_miss\n"
                                        "local_storage_miss\n"
                                        "# /build/src/b.c\n"
                                        "direct_cache_hit\n"
                                        "local_storage_hit\n"
                                        "# /build/src/c.c\n"
                                        "preprocessed_cache_hit\n"
                                        "# conftest.c\n"
                                        "called_for_preprocessing\n"
                                        "# \n"
                                        "called_for_link\n");
    auto stats = read_compiler_cache_stats("stats.log");
    CHECK(stats.used);
    CHECK(stats.hits == 2);
    CHECK(stats.misses == 1);
    CHECK(stats.uncached == 2);
}

TEST_CASE("containers of one family share a compiler cache directory") {
    ksx::container::Rootfs a{"a", "a", "", "debian-1111", "debian-aaaa"};
    ksx::container::Rootfs b{"b", "b", "", "debian-2222", "debian-aaaa"};
    ksx::container::Rootfs other{"c", "c", "", "directory /x/y", "directory /x/y"};
    CHECK(compiler_cache_dir("/cache", a) == "/cache/ccache/debian-aaaa");
    CHECK(compiler_cache_dir("/cache", a) == compiler_cache_dir("/cache", b));
    CHECK(compiler_cache_dir("/cache", other) == "/cache/ccache/directory__x_y");
}

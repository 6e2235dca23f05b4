#include "util/remove_tree.hpp"

#include <doctest/doctest.h>
#include <filesystem>
#include <fstream>
#include <sys/stat.h>

namespace fs = std::filesystem;

TEST_CASE("a half-made tree with read-only directories is removed whole") {
    fs::create_directories("half/proc/sys");
    std::ofstream("half/proc/sys/file") << "x";
    fs::create_symlink("/etc", "half/etc-link");
    REQUIRE(::chmod("half/proc/sys", 0555) == 0);
    REQUIRE(::chmod("half/proc", 0500) == 0);
    CHECK(ksx::remove_tree("half"));
    CHECK_FALSE(fs::exists("half"));
    CHECK(fs::exists("/etc/passwd"));
}

TEST_CASE("a partial directory is removed unless released") {
    fs::create_directories("partial-a/x");
    fs::create_directories("partial-b/x");
    {
        ksx::PartialDir dropped("partial-a");
        ksx::PartialDir kept("partial-b");
        kept.release();
    }
    CHECK_FALSE(fs::exists("partial-a"));
    CHECK(fs::exists("partial-b/x"));
    CHECK(ksx::remove_tree("does-not-exist"));
}

#include "util/atomic_file.hpp"
#include "util/file_io.hpp"

#include <doctest/doctest.h>
#include <filesystem>

namespace fs = std::filesystem;

TEST_CASE("an atomic file appears under its name only after commit") {
    fs::create_directory("a");
    {
        ksx::AtomicFile file("a/out.raw");
        file.write("data");
        CHECK_FALSE(fs::exists("a/out.raw"));
        file.commit();
    }
    CHECK(ksx::read_file("a/out.raw") == "data");
    CHECK(std::distance(fs::directory_iterator("a"), fs::directory_iterator{}) == 1);
}

TEST_CASE("an atomic file dropped without commit leaves nothing behind") {
    fs::create_directory("b");
    {
        ksx::AtomicFile file("b/out.raw");
        file.write("partial");
    }
    CHECK(fs::is_empty("b"));
}

TEST_CASE("committing over an existing file replaces it whole") {
    fs::create_directory("c");
    ksx::write_file_atomic("c/f", "old");
    ksx::write_file_atomic("c/f", "new", 0600);
    CHECK(ksx::read_file("c/f") == "new");
    CHECK((fs::status("c/f").permissions() & fs::perms::all) ==
          (fs::perms::owner_read | fs::perms::owner_write));
}

TEST_CASE("is_within rejects paths that leave the root") {
    CHECK(ksx::is_within("/r", "/r/a/b"));
    CHECK(ksx::is_within("/r", "/r/a/../b"));
    CHECK_FALSE(ksx::is_within("/r", "/r/../etc"));
    CHECK_FALSE(ksx::is_within("/r", "/r"));
    CHECK_FALSE(ksx::is_within("/r", "/rx/a"));
}

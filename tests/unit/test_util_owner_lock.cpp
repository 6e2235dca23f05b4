// Entries owned by running processes (owner_lock): temp files and directories of a killed run
// are recognised by their free lock and removed; those of a live one never are.
#include "process_fixture.hpp"
#include "util/atomic_file.hpp"
#include "util/file_io.hpp"
#include "util/owner_lock.hpp"
#include "util/temp_dir.hpp"

#include <doctest/doctest.h>
#include <filesystem>
#include <optional>

namespace fs = std::filesystem;
using namespace ksx;

namespace {

size_t entries_in(const fs::path& dir) {
    return static_cast<size_t>(
        std::distance(fs::directory_iterator(dir), fs::directory_iterator{}));
}

bool any_name(const std::string&) {
    return true;
}

} // namespace

TEST_CASE("a temp file and a temp dir of a killed run are removed, a live run's are kept") {
    fs::create_directory("out");
    test::run_then_kill([] {
        auto* file = new AtomicFile("out/image.raw"); // never destroyed: killed while writing
        file->write("half");
        auto* dir = new TempDir(".staging-", "out");
        (void)dir;
    });
    REQUIRE(entries_in("out") == 2);
    {
        test::LiveChild live([] {
            auto* file = new AtomicFile("out/other.raw");
            file->write("busy");
            new TempDir(".busy-", "out");
        });
        CHECK(entries_in("out") == 4);
        auto removed = remove_abandoned("out", any_name);
        CHECK(removed.size() == 2);
        CHECK(entries_in("out") == 2); // the live child's
        for (const auto& entry : fs::directory_iterator("out")) {
            auto name = entry.path().filename().string();
            CHECK((name.starts_with(".other.raw.tmp.") || name.starts_with(".busy-")));
        }
    }
    // The child is gone now: its entries are leftovers too.
    CHECK(remove_abandoned("out", any_name).size() == 2);
    CHECK(fs::is_empty("out"));
}

TEST_CASE("this process's own temp files and dirs are in use for other cleaners") {
    fs::create_directory("own");
    AtomicFile file("own/f.raw");
    TempDir dir(".work-", "own");
    test::run_then_kill([] {
        // Exit status cannot carry much; the parent checks what is left instead.
        remove_abandoned("own", any_name);
    });
    CHECK(fs::exists(file.temp_path()));
    CHECK(fs::is_directory(dir.path()));
    file.write("x");
    file.commit();
    CHECK(read_file("own/f.raw") == "x");
}

TEST_CASE("a kept directory is left by the automatic cleanup and removed on request") {
    fs::create_directory("k");
    test::run_then_kill([] {
        auto* dir = new TempDir("logs-", "k");
        mark_kept(dir->path());
        dir->keep();
    });
    REQUIRE(entries_in("k") == 1);
    CHECK(remove_abandoned("k", any_name).empty());
    CHECK(entries_in("k") == 1);
    CHECK(remove_abandoned("k", any_name, true).size() == 1);
    CHECK(fs::is_empty("k"));
}

TEST_CASE("only the names the caller selects are touched") {
    fs::create_directory("sel");
    write_file_atomic("sel/keep.txt", "user's file");
    test::run_then_kill([] { new TempDir(".mine-", "sel"); });
    auto removed =
        remove_abandoned("sel", [](const std::string& name) { return name.starts_with(".mine-"); });
    CHECK(removed.size() == 1);
    CHECK(read_file("sel/keep.txt") == "user's file");
}

TEST_CASE("a directory lock is exclusive between processes and free after the holder dies") {
    fs::create_directory("locked");
    {
        test::LiveChild holder([] { new DirectoryLock("locked", DirectoryLock::Mode::Shared); });
        DirectoryLock shared("locked", DirectoryLock::Mode::Shared, DirectoryLock::Wait::No);
        CHECK(shared.locked());
        // flock(2) locks belong to the open file: a second one of ours conflicts like another
        // process's would.
        DirectoryLock exclusive("locked", DirectoryLock::Mode::Exclusive, DirectoryLock::Wait::No);
        CHECK_FALSE(exclusive.locked());
    }
    DirectoryLock exclusive("locked", DirectoryLock::Mode::Exclusive, DirectoryLock::Wait::No);
    CHECK(exclusive.locked());
}

// Output sets (output_dir): an image and its sidecars replace an earlier set whole, a commit
// that a kill interrupted at any point is completed by the next settle, and the leftovers of
// killed runs are removed while a live run's staging is left alone.
#include "process_fixture.hpp"
#include "util/atomic_file.hpp"
#include "util/file_io.hpp"
#include "util/output_dir.hpp"

#include <doctest/doctest.h>
#include <filesystem>
#include <set>
#include <string>
#include <vector>

namespace fs = std::filesystem;
using namespace ksx;

namespace {

const std::vector<std::string> set_names{"a.verity", "a.roothash", "a.roothash.p7s", "a.raw"};

void write_set(const fs::path& dir, const std::string& version) {
    fs::create_directories(dir);
    for (const auto& name : set_names) {
        write_file_atomic(dir / name, name + " " + version);
    }
}

// "old", "new", or "mixed" for the set of four in `dir`.
std::string set_state(const fs::path& dir) {
    std::set<std::string> versions;
    for (const auto& name : set_names) {
        auto text = fs::exists(dir / name) ? read_file(dir / name) : name + " missing";
        versions.insert(text.substr(text.find(' ') + 1));
    }
    return versions.size() == 1 ? *versions.begin() : "mixed";
}

std::set<std::string> names_in(const fs::path& dir) {
    std::set<std::string> names;
    for (const auto& entry : fs::directory_iterator(dir)) {
        names.insert(entry.path().filename().string());
    }
    return names;
}

const std::set<std::string> just_the_set{set_names.begin(), set_names.end()};

} // namespace

TEST_CASE("a committed set replaces the earlier one whole and leaves no staging behind") {
    write_set("out", "old");
    {
        OutputDir out("out");
        write_set(out.staging(), "new");
        out.commit(set_names, {});
        CHECK(set_state("out") == "new");
    }
    CHECK(names_in("out") == just_the_set);
}

TEST_CASE("sidecars an unsigned rebuild no longer has are removed in the same commit") {
    write_set("u", "old");
    OutputDir out("u");
    write_file_atomic(out.staging() / "a.raw", "a.raw new");
    out.commit({"a.raw"}, {"a.verity", "a.roothash", "a.roothash.p7s"});
    CHECK(names_in("u").count("a.raw") == 1);
    CHECK(names_in("u").count("a.verity") == 0);
    CHECK(read_file("u/a.raw") == "a.raw new");
}

TEST_CASE("a commit killed after its record, at any rename, is completed by the next run") {
    // The on-disk state a kill leaves after the record is durable and `moved` files were
    // renamed: the staging directory of a dead run holding the record and the rest.
    for (size_t moved = 0; moved <= set_names.size(); ++moved) {
        CAPTURE(moved);
        const fs::path dir = "k" + std::to_string(moved);
        write_set(dir, "old");
        test::run_then_kill([&] {
            auto* out = new OutputDir(dir); // never destroyed: the run is killed
            write_set(out->staging(), "new");
            std::string record = "kmod-sysext commit 1\n";
            for (const auto& name : set_names) {
                record += "put " + name + "\n";
            }
            write_file_atomic(out->staging() / "commit", record);
            for (size_t i = 0; i < moved; ++i) {
                fs::rename(out->staging() / set_names[i], dir / set_names[i]);
            }
        });
        CHECK(set_state(dir) ==
              (moved == 0 || moved == set_names.size() ? (moved ? "new" : "old") : "mixed"));
        // A reader (verify, publish --from) settles before it reads: the new set, whole.
        SettledDir settled(dir);
        CHECK(set_state(dir) == "new");
        CHECK(settled.report().completed.size() == set_names.size());
        CHECK(names_in(dir) == just_the_set);
    }
}

TEST_CASE("a run killed before its record leaves the old set, and its staging is removed") {
    write_set("b", "old");
    test::run_then_kill([] {
        auto* out = new OutputDir("b");
        write_set(out->staging(), "new");
        new AtomicFile(out->staging() / "commit"); // killed while writing the record
    });
    CHECK(names_in("b").size() == just_the_set.size() + 1);
    OutputDir next("b");
    CHECK(set_state("b") == "old");
    CHECK(next.settled().completed.empty());
    CHECK(next.settled().removed.size() == 1);
    CHECK(names_in("b") == just_the_set);
}

TEST_CASE("a live run's staging directory is left alone") {
    write_set("live", "old");
    test::LiveChild child([] {
        auto* out = new OutputDir("live");
        write_set(out->staging(), "new");
    });
    OutputDir other("live");
    CHECK(other.settled().removed.empty());
    CHECK(names_in("live").size() == just_the_set.size() + 1);
    CHECK(set_state("live") == "old");
}

TEST_CASE("temp files earlier versions left beside the images are removed, others are not") {
    fs::create_directory("legacy");
    for (const auto& name : {".a.raw.tmp.Ab12Cd", ".a.roothash.p7s.tmp.x1y2z3", ".ksx-usr-QwErTy",
                             ".notes.txt.tmp.abcdef", "a.raw.tmp.abcdef"}) {
        if (std::string(name).starts_with(".ksx-")) {
            fs::create_directory(fs::path("legacy") / name);
        } else {
            write_file_atomic(fs::path("legacy") / name, "x");
        }
    }
    OutputDir out("legacy");
    CHECK(out.settled().removed.size() == 3);
    CHECK(names_in("legacy") == std::set<std::string>{".notes.txt.tmp.abcdef", "a.raw.tmp.abcdef"});
}

TEST_CASE("settling a directory that does not exist is nothing") {
    SettledDir settled("missing");
    CHECK(settled.report().completed.empty());
    CHECK_FALSE(fs::exists("missing"));
}

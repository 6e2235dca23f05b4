// The build cache: which input change invalidates a kernel's entry, and entries written whole,
// checked when read, and evicted least recently used first.
#include "build/build_cache.hpp"
#include "manifest/manifest.hpp"
#include "plan/local_inputs.hpp"
#include "plan/plan.hpp"
#include "util/atomic_file.hpp"
#include "util/cache.hpp"
#include "util/error.hpp"
#include "util/file_io.hpp"
#include "util/owner_lock.hpp"

#include <doctest/doctest.h>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <set>
#include <sys/stat.h>

namespace fs = std::filesystem;
using namespace ksx::build;

namespace {

BuildKeyInputs base_inputs() {
    BuildKeyInputs in;
    in.tool_version = "1.0.0";
    in.plan_key = std::string(64, 'a');
    in.kernel_release = "6.12.118+deb13-amd64";
    in.container = "debian-0123456789abcdef";
    in.certs = {"module cert DER", "image cert DER", ""};
    return in;
}

// A manifest with a local source tree, written into `dir`, and the plan key of its kernel.
std::string plan_key_of(const fs::path& dir, const std::string& release) {
    auto manifest = ksx::manifest::load(dir / "m.yaml");
    ksx::plan::PlanInputs inputs;
    inputs.manifest_text = ksx::read_file(manifest.file);
    inputs.local_inputs = ksx::plan::local_inputs(manifest, {});
    return ksx::plan::entry_cache_key(manifest, inputs, "", "package:linux-headers-amd64", release);
}

void write_manifest(const fs::path& dir, const std::string& option) {
    fs::create_directories(dir / "src");
    ksx::write_file_atomic(dir / "m.yaml", "apiVersion: kmod-sysext/v1\n"
                                           "name: hello\n"
                                           "version: 1.0.0\n"
                                           "target: {id: debian, version_id: \"13\", "
                                           "architecture: x86-64}\n"
                                           "kernels:\n"
                                           "  - package: linux-headers-amd64\n"
                                           "container: {debian: {suite: trixie}}\n"
                                           "source: {path: src}\n"
                                           "build: {commands: [make]}\n"
                                           "modules:\n"
                                           "  - name: hello\n"
                                           "    options: " +
                                               option + "\n");
}

void set_mtime(const fs::path& path, time_t seconds) {
    struct timespec times[2] = {{seconds, 0}, {seconds, 0}};
    REQUIRE(::utimensat(AT_FDCWD, path.c_str(), times, 0) == 0);
}

std::string key_of(char c) {
    return std::string(64, c);
}

} // namespace

TEST_CASE("each input of a kernel's build changes its build cache key") {
    const auto base = build_cache_key(base_inputs());
    CHECK(base.size() == 64);
    CHECK(build_cache_key(base_inputs()) == base);
    std::set<std::string> keys{base};
    auto changed = [&](auto change) {
        auto in = base_inputs();
        change(in);
        return keys.insert(build_cache_key(in)).second;
    };
    CHECK(changed([](BuildKeyInputs& in) { in.tool_version = "1.0.1"; }));
    CHECK(changed([](BuildKeyInputs& in) { in.plan_key = std::string(64, 'b'); }));
    CHECK(changed([](BuildKeyInputs& in) { in.kernel_release = "6.12.119+deb13-amd64"; }));
    CHECK(changed([](BuildKeyInputs& in) { in.container = "debian-fedcba9876543210"; }));
    CHECK(changed([](BuildKeyInputs& in) { in.certs[0] = "another module cert"; }));
    CHECK(changed([](BuildKeyInputs& in) { in.certs[1] = "another image cert"; }));
    CHECK(changed([](BuildKeyInputs& in) { in.certs[2] = "sha512"; }));
    // Unsigned builds: no certificate at all is an input of its own.
    CHECK(changed([](BuildKeyInputs& in) { in.certs = {"", "", ""}; }));
    // Parts do not run into each other.
    CHECK(changed([](BuildKeyInputs& in) {
        in.kernel_release = "6.12.118+deb13-amd64debian-0123456789abcdef";
        in.container = "";
    }));
}

TEST_CASE("the plan's key, part of the build's, follows the manifest, its local inputs and "
          "the release") {
    write_manifest("m", "a=1");
    const auto first = plan_key_of("m", "6.12.118+deb13-amd64");
    CHECK(plan_key_of("m", "6.12.118+deb13-amd64") == first);
    // Another release of the same spec (a security update of the headers package).
    CHECK(plan_key_of("m", "6.12.119+deb13-amd64") != first);
    // A changed source file.
    ksx::write_file_atomic("m/src/hello.c", "int x;\n");
    const auto with_source = plan_key_of("m", "6.12.118+deb13-amd64");
    CHECK(with_source != first);
    ksx::write_file_atomic("m/src/hello.c", "int y;\n");
    CHECK(plan_key_of("m", "6.12.118+deb13-amd64") != with_source);
    // The manifest's text (a module option: only the image changes, but the key does too).
    write_manifest("m", "a=2");
    CHECK(plan_key_of("m", "6.12.118+deb13-amd64") != with_source);
}

TEST_CASE("a stored build is restored byte for byte into another directory") {
    fs::create_directories("staged");
    ksx::write_file_atomic("staged/hello.raw", std::string(100000, 'x') + "image");
    ksx::write_file_atomic("staged/hello.verity", "tree");
    BuildCache cache(fs::absolute("cache/builds"), std::uint64_t{1} << 30);
    CHECK_FALSE(cache.restore(key_of('1'), "out").has_value());
    cache.store(key_of('1'), "staged", {"hello.verity", "hello.raw"}, R"({"kernel":"k"})");
    // Nothing of the writing is left beside the entry.
    for (const auto& item : fs::directory_iterator("cache/builds")) {
        CHECK(item.path().filename() == key_of('1'));
    }
    fs::create_directories("out");
    auto restored = cache.restore(key_of('1'), "out");
    REQUIRE(restored.has_value());
    CHECK(restored->record == R"({"kernel":"k"})");
    CHECK(restored->files == std::vector<std::string>{"hello.verity", "hello.raw"});
    CHECK(ksx::read_file("out/hello.raw") == ksx::read_file("staged/hello.raw"));
    CHECK(ksx::read_file("out/hello.verity") == "tree");
    CHECK_FALSE(cache.restore(key_of('2'), "out").has_value());
}

TEST_CASE("a damaged entry is a miss and is removed") {
    fs::create_directories("staged");
    ksx::write_file_atomic("staged/hello.raw", "image");
    BuildCache cache(fs::absolute("cache/builds"), std::uint64_t{1} << 30);
    cache.store(key_of('1'), "staged", {"hello.raw"}, "{}");
    ksx::write_file_atomic("cache/builds/" + key_of('1') + "/data/hello.raw", "imagf");
    fs::create_directories("out");
    CHECK_FALSE(cache.restore(key_of('1'), "out").has_value());
    CHECK_FALSE(fs::exists("out/hello.raw"));
    CHECK_FALSE(fs::exists("cache/builds/" + key_of('1')));
}

TEST_CASE("a store killed half way leaves no entry, and the next run removes its remains") {
    // What a killed store leaves: its temp directory, lock free, with part of the files.
    const auto remains =
        fs::path("cache/builds") / (".tmp." + key_of('1').substr(0, 16) + "-AbC123");
    fs::create_directories(remains / "data");
    ksx::write_file_atomic(remains / "data/hello.raw", "ima");
    BuildCache cache(fs::absolute("cache/builds"), std::uint64_t{1} << 30);
    fs::create_directories("out");
    CHECK_FALSE(cache.restore(key_of('1'), "out").has_value());
    auto listed = ksx::list_cache("cache");
    REQUIRE(listed.size() == 1);
    CHECK(listed[0].kind == ksx::CacheKind::Build);
    CHECK(listed[0].leftover);
    auto removed = ksx::remove_leftovers("cache");
    CHECK(std::find(removed.begin(), removed.end(), remains) != removed.end());
    CHECK_FALSE(fs::exists(remains));
}

TEST_CASE("over the cap, the least recently used entries go first, never one being read") {
    fs::create_directories("staged");
    ksx::write_file_atomic("staged/i.raw", std::string(1000, 'x'));
    // Room for two entries of 1000 bytes (and their small records).
    BuildCache roomy(fs::absolute("cache/builds"), std::uint64_t{1} << 30);
    for (char c : {'1', '2', '3'}) {
        roomy.store(key_of(c), "staged", {"i.raw"}, "{}");
    }
    const auto dir = fs::path("cache/builds");
    set_mtime(dir / key_of('1'), 1000); // used long ago
    set_mtime(dir / key_of('2'), 3000); // used last
    set_mtime(dir / key_of('3'), 2000);
    BuildCache tight(fs::absolute("cache/builds"), 2300);
    auto removed = tight.evict();
    REQUIRE(removed.size() == 1);
    CHECK(removed[0].filename() == key_of('1'));

    // A run copying from the oldest entry holds it: the next oldest goes instead.
    BuildCache tighter(fs::absolute("cache/builds"), 1200);
    ksx::DirectoryLock reading(dir / key_of('3'), ksx::DirectoryLock::Mode::Shared);
    removed = tighter.evict();
    REQUIRE(removed.size() == 1);
    CHECK(removed[0].filename() == key_of('2'));
    CHECK(fs::exists(dir / key_of('3')));
}

TEST_CASE("a restored entry counts as used now") {
    fs::create_directories("staged");
    ksx::write_file_atomic("staged/i.raw", std::string(1000, 'x'));
    BuildCache cache(fs::absolute("cache/builds"), std::uint64_t{1} << 30);
    for (char c : {'1', '2'}) {
        cache.store(key_of(c), "staged", {"i.raw"}, "{}");
    }
    set_mtime(fs::path("cache/builds") / key_of('1'), 1000);
    set_mtime(fs::path("cache/builds") / key_of('2'), 2000);
    fs::create_directories("out");
    REQUIRE(cache.restore(key_of('1'), "out").has_value());
    BuildCache tight(fs::absolute("cache/builds"), 1500);
    auto removed = tight.evict();
    REQUIRE(removed.size() == 1);
    CHECK(removed[0].filename() == key_of('2'));
}

TEST_CASE("the size cap is read as bytes or with a K, M, G or T suffix") {
    CHECK(parse_size("4096") == 4096);
    CHECK(parse_size("512M") == std::uint64_t{512} << 20);
    CHECK(parse_size("20G") == std::uint64_t{20} << 30);
    CHECK_THROWS_AS(parse_size(""), ksx::InputError);
    CHECK_THROWS_AS(parse_size("12X"), ksx::InputError);
    CHECK_THROWS_AS(parse_size("G"), ksx::InputError);
    CHECK_THROWS_AS(parse_size("-1"), ksx::InputError);
}

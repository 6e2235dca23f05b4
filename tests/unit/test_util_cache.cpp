// The cache's entries (util/cache): listed with kind, size, last use and state; pruned by age,
// kind or all, leftovers always, and never an entry a live run uses.
#include "process_fixture.hpp"
#include "util/atomic_file.hpp"
#include "util/cache.hpp"

#include <algorithm>
#include <doctest/doctest.h>
#include <fcntl.h>
#include <filesystem>
#include <string>
#include <sys/stat.h>

namespace fs = std::filesystem;
using namespace ksx;

namespace {

void write(const fs::path& path, const std::string& data) {
    fs::create_directories(path.parent_path());
    write_file_atomic(path, data);
}

void age_days(const fs::path& path, int days) {
    timespec times[2];
    ::clock_gettime(CLOCK_REALTIME, &times[0]);
    times[0].tv_sec -= days * 86400;
    times[1] = times[0];
    REQUIRE(::utimensat(AT_FDCWD, path.c_str(), times, AT_SYMLINK_NOFOLLOW) == 0);
}

// A cache with a container (and its log), an unfinished container, two downloads, and work
// directories of a killed run, of a failed run (kept) and of a live run when `live` is given.
void fill_cache(const fs::path& cache) {
    write(cache / "containers/debian-abc/rootfs/bin/sh", std::string(10000, 'x'));
    write(cache / "containers/debian-abc.log", "log");
    write(cache / "containers/debian-def.partial-AbCdEf/rootfs/x", "half");
    write(cache / "downloads" / std::string(64, 'a'), "archive");
    write(cache / "downloads" / std::string(64, 'b'), "old archive");
    age_days(cache / "downloads" / std::string(64, 'b'), 40);
    test::run_then_kill([&] { new TempDir(make_work_dir(cache, "hello")); });
    test::run_then_kill([&] {
        auto* failed = new TempDir(make_work_dir(cache, "failed"));
        keep_work_dir(*failed);
    });
}

bool remove_tree(const fs::path& path) {
    std::error_code ec;
    fs::remove_all(path, ec);
    return !ec;
}

const CacheEntry* find(const std::vector<CacheEntry>& entries, const std::string& prefix) {
    auto it = std::find_if(entries.begin(), entries.end(), [&](const CacheEntry& e) {
        return e.path.filename().string().starts_with(prefix);
    });
    return it == entries.end() ? nullptr : &*it;
}

} // namespace

TEST_CASE("the cache lists containers, downloads and work directories with their state") {
    fill_cache("c");
    auto entries = list_cache("c");
    REQUIRE(entries.size() == 6); // the container's log goes with it
    auto* container = find(entries, "debian-abc");
    REQUIRE(container);
    CHECK(container->kind == CacheKind::Container);
    CHECK(container->bytes >= 10000);
    CHECK_FALSE(container->leftover);
    CHECK(find(entries, "debian-def.partial-")->leftover);
    auto* old = find(entries, std::string(4, 'b'));
    CHECK(old->kind == CacheKind::Download);
    CHECK(fs::file_time_type::clock::now() - old->last_use > std::chrono::days(39));
    auto* killed = find(entries, "hello-");
    CHECK(killed->kind == CacheKind::Work);
    CHECK(killed->leftover);
    auto* failed = find(entries, "failed-");
    CHECK(failed->kept);
    CHECK_FALSE(failed->leftover);
    CHECK(list_cache("no-such-cache").empty());
}

TEST_CASE("prune removes leftovers only by default, then by age, then all") {
    fill_cache("p");
    auto removed = prune_cache("p", {}, remove_tree);
    CHECK(removed.size() == 2); // the unfinished container and the killed run's work
    CHECK_FALSE(fs::exists("p/containers/debian-def.partial-AbCdEf"));
    CHECK(fs::is_directory("p/containers/debian-abc"));

    PruneOptions by_age;
    by_age.older_than_days = 30;
    removed = prune_cache("p", by_age, remove_tree);
    REQUIRE(removed.size() == 1);
    CHECK(removed[0].path.filename() == std::string(64, 'b'));

    PruneOptions containers;
    containers.all = true;
    containers.kinds = {CacheKind::Container};
    removed = prune_cache("p", containers, remove_tree);
    REQUIRE(removed.size() == 1);
    CHECK_FALSE(fs::exists("p/containers/debian-abc"));
    CHECK_FALSE(fs::exists("p/containers/debian-abc.log"));

    PruneOptions all;
    all.all = true;
    removed = prune_cache("p", all, remove_tree);
    CHECK(removed.size() == 2); // the download and the kept work directory
    CHECK(list_cache("p").empty());
}

TEST_CASE("prune never removes what a live run uses") {
    fill_cache("busy");
    PruneOptions all;
    all.all = true;
    {
        test::LiveChild run([] {
            auto* lock = new DirectoryLock(use_cache("busy"));
            (void)lock;
            new TempDir(make_work_dir("busy", "live"));
        });
        auto entries = list_cache("busy");
        CHECK(find(entries, "live-")->in_use);
        CHECK(find(entries, "debian-abc")->in_use);
        auto removed = prune_cache("busy", all, remove_tree);
        // Only work directories of runs that are gone; containers and downloads are in use.
        CHECK(removed.size() == 2);
        for (const auto& e : removed) {
            CHECK(e.kind == CacheKind::Work);
        }
        CHECK(fs::is_directory("busy/containers/debian-abc"));
        CHECK(find(list_cache("busy"), "live-"));
    }
    CHECK(prune_cache("busy", all, remove_tree).size() == 5); // the live run's work too now
}

TEST_CASE("a build's automatic cleanup removes what killed runs left, not kept or live work") {
    fill_cache("auto");
    test::run_then_kill([] { new ksx::AtomicFile("auto/downloads/" + std::string(64, 'c')); });
    test::LiveChild run([] {
        new TempDir(make_work_dir("auto", "live"));
        new ksx::AtomicFile("auto/downloads/" + std::string(64, 'd'));
    });
    auto removed = remove_leftovers("auto");
    REQUIRE(removed.size() == 2);
    CHECK(removed[0].filename().string().starts_with("hello-"));
    CHECK(removed[1].filename().string().starts_with("." + std::string(64, 'c') + ".tmp."));
    auto entries = list_cache("auto");
    CHECK(find(entries, "live-")->in_use);
    CHECK(find(entries, "." + std::string(64, 'd'))->in_use);
    CHECK(find(entries, "failed-")->kept);
}

TEST_CASE("mark_used stamps the cache entry holding a container's root") {
    write("m/containers/debian-x/rootfs/bin/sh", "sh");
    age_days("m/containers/debian-x", 10);
    mark_used("m", "m/containers/debian-x/rootfs");
    auto entries = list_cache("m");
    REQUIRE(entries.size() == 1);
    CHECK(fs::file_time_type::clock::now() - entries[0].last_use < std::chrono::hours(1));
    mark_used("m", "/elsewhere/rootfs"); // not in the cache: nothing
}

TEST_CASE("build cache entries and compiler caches are listed and pruned by kind") {
    const std::string key(64, 'c');
    write("k/builds/" + key + "/data/hello.raw", "image");
    write("k/builds/.tmp.cccccccccccccccc-AbC123/data/hello.raw", "half"); // a killed store
    write("k/ccache/debian-abc/0/stats", "x");
    auto entries = list_cache("k");
    REQUIRE(entries.size() == 3);
    const auto* build = find(entries, key);
    REQUIRE(build);
    CHECK(build->kind == CacheKind::Build);
    CHECK(std::string(to_string(build->kind)) == "build");
    CHECK_FALSE(build->leftover);
    CHECK_FALSE(build->in_use);
    CHECK(find(entries, ".tmp.")->leftover);
    CHECK(find(entries, "debian-abc")->kind == CacheKind::Compiler);
    {
        // A run copying from the entry holds its shared lock: in use, not pruned.
        DirectoryLock reading("k/builds/" + key, DirectoryLock::Mode::Shared);
        CHECK(find(list_cache("k"), key)->in_use);
        PruneOptions builds;
        builds.all = true;
        builds.kinds = {CacheKind::Build};
        auto removed = prune_cache("k", builds, remove_tree);
        REQUIRE(removed.size() == 1);
        CHECK(removed[0].path.filename().string().starts_with(".tmp."));
    }
    PruneOptions compilers;
    compilers.all = true;
    compilers.kinds = {CacheKind::Compiler};
    auto removed = prune_cache("k", compilers, remove_tree);
    REQUIRE(removed.size() == 1);
    CHECK(removed[0].kind == CacheKind::Compiler);
    CHECK(fs::is_directory("k/builds/" + key));
}

#include "container/container_use.hpp"
#include "container/debian_container.hpp"
#include "util/error.hpp"

#include <doctest/doctest.h>
#include <filesystem>
#include <fstream>
#include <string>
#include <sys/stat.h>
#include <thread>

namespace fs = std::filesystem;
using namespace ksx::container;
using ksx::DirectoryLock;
using ksx::Progress;

namespace {

constexpr const char* kStamp = ".complete";

fs::path complete_container(const fs::path& dir) {
    fs::remove_all(dir);
    fs::create_directories(dir / "rootfs");
    std::ofstream(dir / kStamp) << "recipe\n";
    return dir;
}

// True when `use` locks the directory that is at `dir` now.
bool locks(const ContainerUse& use, const fs::path& dir) {
    struct stat locked {};
    struct stat now {};
    return use && ::fstat(use->fd(), &locked) == 0 && ::stat(dir.c_str(), &now) == 0 &&
           locked.st_ino == now.st_ino && locked.st_dev == now.st_dev;
}

} // namespace

TEST_CASE("a container in use by a run cannot be refreshed by another; once unused it can") {
    auto dir = complete_container(fs::absolute("use/debian-a"));
    {
        auto use = start_use(dir, kStamp, Progress::quiet());
        REQUIRE(use);
        CHECK(locks(use, dir));
        CHECK_THROWS_WITH_AS(claim_for_refresh(dir),
                             doctest::Contains("debian-a is in use by another run"), ksx::Error);
    }
    auto claim = claim_for_refresh(dir);
    CHECK(claim.locked());
}

TEST_CASE("a run's targets share one use of a container; it ends with the last of them") {
    auto dir = complete_container(fs::absolute("use/debian-b"));
    CHECK_FALSE(held_use(dir));
    auto first = start_use(dir, kStamp, Progress::quiet());
    auto second = held_use(dir);
    CHECK(second == first);
    first.reset();
    CHECK(held_use(dir) == second);
    second.reset();
    CHECK_FALSE(held_use(dir));
}

TEST_CASE("a missing or incomplete container has no use") {
    CHECK_FALSE(start_use(fs::absolute("use/none"), kStamp, Progress::quiet()));
    fs::create_directories("use/partial");
    CHECK_FALSE(start_use(fs::absolute("use/partial"), kStamp, Progress::quiet()));
}

TEST_CASE("a run that wants a container being refreshed waits and uses the new one") {
    auto dir = complete_container(fs::absolute("use/debian-c"));
    ContainerUse got;
    std::jthread user;
    {
        auto refresh = claim_for_refresh(dir);
        user = std::jthread([&] { got = start_use(dir, kStamp, Progress::quiet()); });
        // Whatever the user did meanwhile, it cannot hold a use of the old container.
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
        fs::rename(dir, fs::absolute("use/debian-c.old"));
        complete_container(dir);
        fs::remove_all(fs::absolute("use/debian-c.old"));
    }
    user.join();
    CHECK(locks(got, dir));
}

TEST_CASE("--refresh-container of a container another run compiles in fails and leaves it") {
    ksx::manifest::DebianContainer debian;
    debian.suite = "bookworm";
    debian.components = {"main"};
    const std::vector<std::string> headers{"linux-headers-amd64"};
    const auto cache = fs::absolute("use-cache");
    auto dir = complete_container(cache / "containers" / ("debian-" + cache_key(debian, headers)));
    // Another run: its lock, not this process's use.
    DirectoryLock other(dir, DirectoryLock::Mode::Shared);
    PrepareOptions refresh{cache, true};
    CHECK_THROWS_WITH_AS(ensure_debian_rootfs(debian, headers, refresh),
                         doctest::Contains("is in use by another run"), ksx::Error);
    CHECK(fs::exists(dir / kStamp));
    CHECK(fs::is_directory(dir / "rootfs"));

    // This run uses it (another target): a refresh is not repeated, the same use is returned.
    PrepareOptions reuse{cache, false};
    auto used = ensure_debian_rootfs(debian, headers, reuse);
    CHECK(used.root == dir / "rootfs");
    CHECK(locks(used.use, dir));
    auto again = ensure_debian_rootfs(debian, headers, refresh);
    CHECK(again.use == used.use);
}

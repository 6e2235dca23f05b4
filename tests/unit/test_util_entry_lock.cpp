#include "util/entry_lock.hpp"

#include <atomic>
#include <chrono>
#include <doctest/doctest.h>
#include <filesystem>
#include <fstream>
#include <thread>

namespace fs = std::filesystem;
using ksx::EntryLock;

TEST_CASE("an entry's lock is a file under the cache's locks directory, made with it") {
    CHECK(EntryLock::lock_file("cache", "debian-1234") == "cache/locks/debian-1234.lock");
    {
        EntryLock lock(fs::absolute("cache"), "debian-1234");
        CHECK(fs::is_regular_file("cache/locks/debian-1234.lock"));
    }
    // Released, not removed: the next run locks the same file.
    CHECK(fs::is_regular_file("cache/locks/debian-1234.lock"));
    EntryLock again(fs::absolute("cache"), "debian-1234");
}

TEST_CASE("a second maker of the same entry waits until the first is done with it") {
    std::atomic<bool> made{false};
    std::atomic<bool> saw_it_made{false};
    std::jthread second;
    {
        EntryLock first(fs::absolute("cache"), "tarball-abc");
        second = std::jthread([&] {
            EntryLock lock(fs::absolute("cache"), "tarball-abc");
            saw_it_made = made.load();
        });
        // Whatever the second thread did meanwhile, it cannot hold the lock yet.
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
        made = true;
    }
    second.join();
    CHECK(saw_it_made);
}

TEST_CASE("another entry's lock does not wait") {
    EntryLock one(fs::absolute("cache"), "tarball-one");
    EntryLock two(fs::absolute("cache"), "tarball-two");
    CHECK(fs::exists("cache/locks/tarball-two.lock"));
}

TEST_CASE("a lock file that cannot be made is an error") {
    std::ofstream("not-a-dir") << "x";
    CHECK_THROWS_AS(EntryLock(fs::absolute("not-a-dir"), "entry"), std::exception);
}

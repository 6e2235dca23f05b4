// prefetch: a kernel's images and sidecars copied from a release into the store, each checked
// against SHA256SUMS before it takes its final name.
#include "activator/prefetch.hpp"
#include "util/file_io.hpp"
#include "util/sha256.hpp"

#include <doctest/doctest.h>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace fs = std::filesystem;
using ksx::activator::Context;
using ksx::activator::Log;

namespace {

struct Release {
    fs::path dir;
    std::string sums;
    void add(const std::string& file, const std::string& content) {
        std::ofstream(dir / file, std::ios::binary) << content;
        sums += ksx::sha256_hex(content) + "  " + file + "\n";
    }
    void finish() { std::ofstream(dir / "SHA256SUMS") << sums; }
};

Release make_release(const std::string& name) {
    fs::remove_all(name);
    fs::create_directories(name);
    return {fs::absolute(name), ""};
}

struct Run {
    int status;
    std::vector<std::string> lines;
};

Run prefetch(const fs::path& root, const std::string& kernel, const std::string& from) {
    Run run{0, {}};
    Log log([&](const std::string& line) { run.lines.push_back(line); });
    Context context;
    context.root = root;
    context.kernel = kernel;
    run.status = ksx::activator::prefetch_images(context, from, log);
    return run;
}

} // namespace

TEST_CASE("SHA256SUMS lines are read in both of sha256sum's modes") {
    auto h = std::string(64, 'a');
    auto entries = ksx::activator::parse_sha256sums(h + "  x.raw\n" + h + " *y.raw\nnoise\n" + h +
                                                    "  ../z.raw\n" + h + "  sub/z.raw\n");
    REQUIRE(entries.size() == 2);
    CHECK(entries[0].second == "x.raw");
    CHECK(entries[1].second == "y.raw");
}

TEST_CASE("the newest image for the kernel comes with its sidecars, sidecars first") {
    auto release = make_release("release");
    release.add("demo_1.9_6.1.0-1-amd64.raw", "old");
    release.add("demo_1.10_6.1.0-1-amd64.raw", "new");
    release.add("demo_1.10_6.1.0-1-amd64.roothash", "abc\n");
    release.add("demo_1.10_6.12.0-1-amd64.raw", "other kernel");
    release.add("index.json", "{}");
    release.finish();
    fs::remove_all("node");
    auto run = prefetch(fs::absolute("node"), "6.1.0-1-amd64", release.dir.string() + "/");
    CHECK(run.status == 0);
    REQUIRE(run.lines.size() == 2);
    CHECK(run.lines[0].find("prefetched demo_1.10_6.1.0-1-amd64.roothash for kernel "
                            "6.1.0-1-amd64") != std::string::npos);
    CHECK(run.lines[1].find("prefetched demo_1.10_6.1.0-1-amd64.raw") != std::string::npos);
    auto store = fs::path("node/var/lib/kmod-sysext/demo");
    CHECK(ksx::read_file(store / "demo_1.10_6.1.0-1-amd64.raw") == "new");
    CHECK_FALSE(fs::exists(store / "demo_1.9_6.1.0-1-amd64.raw"));
    CHECK_FALSE(fs::exists(store / "demo_1.10_6.12.0-1-amd64.raw"));

    auto again = prefetch(fs::absolute("node"), "6.1.0-1-amd64", "file://" + release.dir.string());
    CHECK(again.status == 0);
    CHECK(again.lines[1].find("demo_1.10_6.1.0-1-amd64.raw is already in the store") !=
          std::string::npos);
}

TEST_CASE("a file that does not match SHA256SUMS never reaches the store") {
    auto release = make_release("tampered");
    release.add("demo_1.0_6.1.0-1-amd64.raw", "good");
    release.finish();
    std::ofstream(release.dir / "demo_1.0_6.1.0-1-amd64.raw") << "evil";
    fs::remove_all("node2");
    auto run = prefetch(fs::absolute("node2"), "6.1.0-1-amd64", release.dir.string());
    CHECK(run.status == 1);
    REQUIRE(run.lines.size() == 1);
    CHECK(run.lines[0].find("/demo_1.0_6.1.0-1-amd64.raw has sha256 " + ksx::sha256_hex("evil") +
                            ", SHA256SUMS says " + ksx::sha256_hex("good")) != std::string::npos);
    auto store = fs::path("node2/var/lib/kmod-sysext/demo");
    CHECK_FALSE(fs::exists(store / "demo_1.0_6.1.0-1-amd64.raw"));
    CHECK_FALSE(fs::exists(store / ".demo_1.0_6.1.0-1-amd64.raw.prefetch"));
}

TEST_CASE("a release without an image for the kernel is one warning and success") {
    auto release = make_release("empty-release");
    release.add("demo_1.0_6.1.0-1-amd64.raw", "x");
    release.finish();
    auto run = prefetch(fs::absolute("node3"), "6.2.0-9-amd64", release.dir.string());
    CHECK(run.status == 0);
    REQUIRE(run.lines.size() == 1);
    CHECK(run.lines[0].find("no image for kernel 6.2.0-9-amd64 in " + release.dir.string()) !=
          std::string::npos);
}

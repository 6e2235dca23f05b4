// prefetch: a kernel's images and sidecars copied from a release into the store, each checked
// against SHA256SUMS before it takes its final name; the installed kernels found under --root.
#include "activator/command_line.hpp"
#include "activator/installed_kernels.hpp"
#include "activator/prefetch.hpp"
#include "activator/root_files.hpp"
#include "activator_fixture.hpp"
#include "http_server_fixture.hpp"
#include "util/error.hpp"
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

Run prefetch(const fs::path& root, const std::vector<std::string>& kernels,
             const std::string& from) {
    Run run{0, {}};
    Log log([&](const std::string& line) { run.lines.push_back(line); });
    Context context;
    context.root = root;
    context.kernel = kernels.front();
    run.status = ksx::activator::prefetch_images(context, kernels, from, log);
    return run;
}

Run prefetch(const fs::path& root, const std::string& kernel, const std::string& from) {
    return prefetch(root, std::vector<std::string>{kernel}, from);
}

// A directory of a fake root, with `files` (relative to it) created empty.
void make_tree(const fs::path& root, const std::vector<std::string>& files) {
    for (const auto& f : files) {
        fs::create_directories((root / f).parent_path());
        if (!f.ends_with("/")) {
            std::ofstream(root / f) << "";
        }
    }
}

} // namespace

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

TEST_CASE("several kernels in one run: each gets its newest image, a missing one is a warning") {
    auto release = make_release("multi-release");
    release.add("demo_1.0_6.1.0-1-amd64.raw", "for 6.1");
    release.add("demo_1.0_6.12.0-1-amd64.raw", "for 6.12");
    release.add("demo_1.0_6.12.0-1-amd64.roothash", "hash\n");
    release.finish();
    fs::remove_all("node4");
    auto run = prefetch(fs::absolute("node4"), {"6.1.0-1-amd64", "6.12.0-1-amd64", "6.2.0-9-amd64"},
                        release.dir.string());
    CHECK(run.status == 0);
    REQUIRE(run.lines.size() == 4);
    CHECK(run.lines[0].find("prefetched demo_1.0_6.1.0-1-amd64.raw") != std::string::npos);
    CHECK(run.lines[1].find("prefetched demo_1.0_6.12.0-1-amd64.roothash") != std::string::npos);
    CHECK(run.lines[2].find("prefetched demo_1.0_6.12.0-1-amd64.raw") != std::string::npos);
    CHECK(run.lines[3].find("no image for kernel 6.2.0-9-amd64") != std::string::npos);
    auto store = fs::path("node4/var/lib/kmod-sysext/demo");
    CHECK(ksx::read_file(store / "demo_1.0_6.1.0-1-amd64.raw") == "for 6.1");
    CHECK(ksx::read_file(store / "demo_1.0_6.12.0-1-amd64.raw") == "for 6.12");
}

TEST_CASE("a release served over HTTP is fetched into the store, a second run keeps it") {
    ksx::test::HttpServer server("prefetch-http");
    std::string sums;
    auto image = ksx::test::payload(300000);
    for (const auto& [file, content] : std::vector<std::pair<std::string, std::string>>{
             {"demo_1.0_6.1.0-1-amd64.raw", image}, {"demo_1.0_6.1.0-1-amd64.roothash", "h\n"}}) {
        server.add(file, content);
        sums += ksx::sha256_hex(content) + "  " + file + "\n";
    }
    server.add("SHA256SUMS", sums);
    fs::remove_all("node-http");
    auto run = prefetch(fs::absolute("node-http"), "6.1.0-1-amd64", server.url("/files"));
    CHECK(run.status == 0);
    REQUIRE(run.lines.size() == 2);
    CHECK(run.lines[1].find("prefetched demo_1.0_6.1.0-1-amd64.raw") != std::string::npos);
    auto store = fs::path("node-http/var/lib/kmod-sysext/demo");
    CHECK(ksx::read_file(store / "demo_1.0_6.1.0-1-amd64.raw") == image);
    CHECK((fs::status(store / "demo_1.0_6.1.0-1-amd64.raw").permissions() & fs::perms::all) ==
          static_cast<fs::perms>(0644));
    CHECK(
        ksx::test::tree_entries(store) ==
        std::vector<std::string>{"demo_1.0_6.1.0-1-amd64.raw", "demo_1.0_6.1.0-1-amd64.roothash"});
    auto again = prefetch(fs::absolute("node-http"), "6.1.0-1-amd64", server.url("/files/"));
    CHECK(again.status == 0);
    CHECK(again.lines.back().find("demo_1.0_6.1.0-1-amd64.raw is already in the store") !=
          std::string::npos);
}

namespace {

struct WithoutOpenat2 {
    WithoutOpenat2() { ksx::activator::use_openat2_for_tests(false); }
    ~WithoutOpenat2() { ksx::activator::use_openat2_for_tests(true); }
    WithoutOpenat2(const WithoutOpenat2&) = delete;
    WithoutOpenat2& operator=(const WithoutOpenat2&) = delete;
};

} // namespace

TEST_CASE("prefetch writes only beneath --root, whatever symlinks the store's path holds") {
    auto release = make_release("beneath-release");
    release.add("demo_1.0_6.1.0-1-amd64.raw", "image");
    release.add("demo_1.0_6.1.0-1-amd64.roothash", "hash\n");
    release.finish();
    auto outside = ksx::test::outside_root("prefetch-outside");
    fs::create_directories(outside / "store/demo");
    auto root = fs::absolute("prefetch-beneath");
    fs::remove_all(root);
    fs::create_directories(root / "var/lib");
    auto fetch = [&] { return prefetch(root, "6.1.0-1-amd64", release.dir.string()); };
    auto raw = std::string("demo/demo_1.0_6.1.0-1-amd64.raw");

    SUBCASE("an absolute symlink for the store resolves against the root, as on the node") {
        fs::create_directories(root / outside.relative_path() / "store");
        fs::create_directory_symlink(outside / "store", root / "var/lib/kmod-sysext");
        CHECK(fetch().status == 0);
        CHECK(ksx::read_file(root / outside.relative_path() / "store" / raw) == "image");
    }
    SUBCASE("a parent that is a symlink climbing out stops at the root") {
        fs::remove_all(root / "var/lib");
        fs::create_directories(root / "prefetch-outside/kmod-sysext");
        fs::create_directory_symlink("../../prefetch-outside", root / "var/lib");
        CHECK(fetch().status == 0);
        CHECK(ksx::read_file(root / "prefetch-outside/kmod-sysext" / raw) == "image");
    }
    SUBCASE("an extension directory that leads only outside the root is an error") {
        fs::create_directories(root / "var/lib/kmod-sysext");
        fs::create_directory_symlink(outside / "store/demo", root / "var/lib/kmod-sysext/demo");
        auto run = fetch();
        CHECK(run.status == 1);
        REQUIRE(run.lines.size() == 1);
        CHECK(run.lines[0].find("cannot open " + (root / "var/lib/kmod-sysext/demo").string() +
                                ": No such file or directory") != std::string::npos);
    }
    SUBCASE("without openat2 a symlink in the store's path is refused") {
        WithoutOpenat2 fallback;
        fs::create_directory_symlink(outside / "store", root / "var/lib/kmod-sysext");
        auto run = fetch();
        CHECK(run.status == 1);
        REQUIRE(run.lines.size() == 1);
        CHECK(run.lines[0].find((root / "var/lib/kmod-sysext").string()) != std::string::npos);
    }
    CHECK(ksx::test::tree_entries(outside) == std::vector<std::string>{"store", "store/demo"});
}

TEST_CASE("installed kernels: the running one and every modules directory that holds a kernel") {
    auto root = fs::absolute("kernels-root");
    fs::remove_all(root);
    make_tree(root, {
                        "usr/lib/modules/6.1.0-1-amd64/modules.dep",     // Debian after depmod
                        "usr/lib/modules/6.12.0-1-amd64/kernel/fs/x.ko", // unpacked, no depmod yet
                        "lib/modules/6.2.0-1-amd64/vmlinuz",             // Fedora's layout
                        "usr/lib/modules/5.10.0-9-amd64/updates/dkms/y.ko", // removed kernel
                        "usr/lib/modules/not-a-dir",
                        "ostree/deploy/fedora-coreos/deploy/abc.0/usr/lib/modules/6.9.7-200.fc40."
                        "x86_64/vmlinuz", // a staged OSTree deployment
                    });
    Context context;
    context.root = root;
    context.kernel = "6.1.0-1-amd64"; // also installed: listed once
    CHECK(ksx::activator::installed_kernels(context) ==
          std::vector<std::string>{"6.1.0-1-amd64", "6.12.0-1-amd64", "6.2.0-1-amd64",
                                   "6.9.7-200.fc40.x86_64"});
    context.kernel = "6.3.0-1-amd64"; // running, though its modules directory is gone
    CHECK(ksx::activator::installed_kernels(context).front() == "6.1.0-1-amd64");
    CHECK(ksx::activator::installed_kernels(context).size() == 5);

    fs::remove_all(root / "lib");
    fs::create_directory_symlink("usr/lib", root / "lib"); // merged /usr: each release once
    CHECK(ksx::activator::installed_kernels(context).size() == 4);

    Context empty;
    empty.root = fs::absolute("no-such-root");
    empty.kernel = "6.1.0-1-amd64";
    CHECK(ksx::activator::installed_kernels(empty) == std::vector<std::string>{"6.1.0-1-amd64"});
}

TEST_CASE("--all-kernels is an option of prefetch only") {
    auto invocation = ksx::activator::parse_command_line(
        {"prefetch", "--from", "http://h/rel", "--all-kernels", "--root", "/tmp/x"});
    CHECK(invocation.all_kernels);
    CHECK(invocation.from == "http://h/rel");
    CHECK_THROWS_WITH_AS(ksx::activator::parse_command_line({"select", "--all-kernels"}),
                         "unknown option --all-kernels for select (see --help)", ksx::InputError);
}

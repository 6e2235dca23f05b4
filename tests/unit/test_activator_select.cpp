#include "activator/image_name.hpp"
#include "activator/root_files.hpp"
#include "activator/select.hpp"
#include "activator/selection_marker.hpp"
#include "activator_fixture.hpp"
#include "manifest/manifest.hpp"
#include "pack/layout.hpp"
#include "util/error.hpp"
#include "util/file_io.hpp"

#include <doctest/doctest.h>
#include <filesystem>
#include <fstream>
#include <string>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>

using namespace ksx;
using namespace ksx::activator;
namespace fs = std::filesystem;

namespace {

struct Node : test::ActivatorNode {
    using ActivatorNode::ActivatorNode;
    int select() { return select_images(context, fresh_log()); }
};

constexpr const char* kStoreHello = "/var/lib/kmod-sysext/hello/";

} // namespace

TEST_CASE("image names split into extension, version and kernel") {
    auto name = parse_image_name("hello_1.0.0_6.12.5+deb12-amd64.raw");
    REQUIRE(name);
    CHECK(name->extension == "hello");
    CHECK(name->version == "1.0.0");
    CHECK(name->kernel == "6.12.5+deb12-amd64");
    CHECK(name->stem() == "hello_1.0.0_6.12.5+deb12-amd64");
    auto underscore_kernel = parse_image_name("zfs_2.1_6.1.0_custom.raw");
    REQUIRE(underscore_kernel);
    CHECK(underscore_kernel->kernel == "6.1.0_custom");
    for (const char* bad : {"hello.raw", "hello_1.0.raw", "hello__k.raw", "hello_1_.raw",
                            "_1_k.raw", "hello_1_k.img", ".hello_1_k.raw", "hel/lo_1_k.raw"}) {
        CAPTURE(bad);
        CHECK_FALSE(parse_image_name(bad));
    }
}

TEST_CASE("image names follow the builder's rule for each field, nothing else") {
    // What the builder writes parses back into the same fields.
    manifest::Manifest m;
    m.name = "nvidia-open";
    m.version = "535.261.03-1~deb12u1";
    auto file = pack::image_file_name(m, m.version, "6.12.5+deb12-amd64");
    auto name = parse_image_name(file);
    REQUIRE(name);
    CHECK(name->extension == "nvidia-open");
    CHECK(name->version == "535.261.03-1~deb12u1");
    CHECK(name->kernel == "6.12.5+deb12-amd64");
    CHECK(name->file_name() == file);
    const std::string k = "_6.1.0-28-amd64.raw";
    for (const auto& bad : std::vector<std::string>{
             "hello_9\"" + k, "hello_1.0 beta" + k, "hello_1.0\n" + k, "hello_1.0\x1b[2J" + k,
             "hello_-1" + k, "hello_1.0:1" + k, "Hello_1.0" + k, "hel+lo_1.0" + k, "hel.lo_1.0" + k,
             "hello_1.0_6.1 x.raw", "hello_1.0_6.1\n.raw", "hello_1.0_...raw", "hello_1.0_..raw",
             "hello_" + std::string(65, '1') + k, "hello_1.0_" + std::string(65, '6') + ".raw",
             std::string(65, 'h') + "_1.0" + k}) {
        CAPTURE(bad);
        CHECK_FALSE(parse_image_name(bad));
    }
    CHECK(parse_image_name("hello_" + std::string(64, '1') + "_" + std::string(64, '6') + ".raw"));
}

TEST_CASE("select links the newest version built for the running kernel") {
    Node node("newest");
    node.image("hello", "hello_1.2.0_6.1.0-28-amd64.raw");
    node.image("hello", "hello_1.10.0_6.1.0-28-amd64.raw");
    node.image("hello", "hello_1.9.0_6.1.0-28-amd64.raw");
    node.image("hello", "hello_2.0.0_6.12.5+deb12-amd64.raw");
    CHECK(node.select() == 0);
    CHECK(node.link("hello.raw") == std::string(kStoreHello) + "hello_1.10.0_6.1.0-28-amd64.raw");
    CHECK(node.logged("selected hello_1.10.0_6.1.0-28-amd64.raw for kernel 6.1.0-28-amd64"));
    CHECK(read_file(node.root / "run/kmod-sysext/selected") ==
          "# kmod-sysext-activate selection, format 1\n"
          "# kernel 6.1.0-28-amd64\n"
          "hello\thello.raw\t/var/lib/kmod-sysext/hello/hello_1.10.0_6.1.0-28-amd64.raw\n");
}

TEST_CASE("a version pinned in /etc/kmod-sysext wins over the newest") {
    Node node("pinned");
    node.image("hello", "hello_1.0.0_6.1.0-28-amd64.raw");
    node.image("hello", "hello_1.1.0_6.1.0-28-amd64.raw");
    node.write("etc/kmod-sysext/hello.conf", "# held back\nVERSION=\"1.0.0\"\n");
    CHECK(node.select() == 0);
    CHECK(node.link("hello.raw") == std::string(kStoreHello) + "hello_1.0.0_6.1.0-28-amd64.raw");

    node.write("etc/kmod-sysext/hello.conf", "VERSION=0.9\n");
    CHECK(node.select() == 0);
    CHECK(node.link("hello.raw").empty());
    CHECK(node.logged("no image of hello version 0.9 (pinned in /etc/kmod-sysext/hello.conf) for "
                      "kernel 6.1.0-28-amd64; available for this kernel: 1.0.0 1.1.0"));
}

TEST_CASE("a broken pin file is an error and nothing is linked for that extension") {
    Node node("badpin");
    node.image("hello", "hello_1.0.0_6.1.0-28-amd64.raw");
    node.write("etc/kmod-sysext/hello.conf", "VERSION\n");
    CHECK(node.select() == 1);
    CHECK(node.link("hello.raw").empty());
    CHECK(node.logged((node.root / "etc/kmod-sysext/hello.conf").string() +
                      ":1: expected KEY=value, found \"VERSION\"; not selecting hello"));
}

TEST_CASE("no image for the running kernel logs the kernels there are and links nothing") {
    Node node("missing");
    node.image("hello", "hello_1.0.0_6.12.5+deb12-amd64.raw");
    node.image("hello", "hello_1.0.0_6.1.0-27-amd64.raw");
    CHECK(node.select() == 0);
    CHECK(node.link("hello.raw").empty());
    CHECK(node.logged("no image of hello for kernel 6.1.0-28-amd64; available: 6.1.0-27-amd64 "
                      "6.12.5+deb12-amd64"));
}

TEST_CASE("wrongly named entries are logged and skipped while the others are linked") {
    Node node("names");
    node.image("hello", "hello_1.0.0_6.1.0-28-amd64.raw");
    node.image("hello", "hello-1.1.0-6.1.0-28-amd64.raw");
    node.image("hello", "world_9.0_6.1.0-28-amd64.raw");
    node.image("hello", ".hello_2.0_6.1.0-28-amd64.raw.part");
    node.image("bad_name", "bad_1_6.1.0-28-amd64.raw");
    std::ofstream(node.store() / "README") << "not an extension";
    std::ofstream(node.store() / "notes") << "not an extension";
    CHECK(node.select() == 0);
    CHECK(node.link("hello.raw") == std::string(kStoreHello) + "hello_1.0.0_6.1.0-28-amd64.raw");
    auto store = node.store().string();
    CHECK(node.logged("ignoring " + store +
                      "/hello/hello-1.1.0-6.1.0-28-amd64.raw: not named "
                      "hello_<version>_<kernel>.raw (version: letters, digits and \".+~-\"; "
                      "kernel: letters, digits and \"._+~-\"; each at most 64 characters)"));
    CHECK(node.logged("ignoring " + store +
                      "/hello/world_9.0_6.1.0-28-amd64.raw: an image of world in the directory "
                      "of hello"));
    CHECK(node.logged("ignoring " + store +
                      "/bad_name: not an extension name (lower-case letters, digits and '-', "
                      "starting with a letter or digit, at most 64 characters)"));
    CHECK(node.logged("ignoring " + store +
                      "/README: not an extension name (lower-case letters, digits and '-', "
                      "starting with a letter or digit, at most 64 characters)"));
    CHECK(node.logged("ignoring " + store + "/notes: not a directory"));
    CHECK(node.all_lines().find(".part") == std::string::npos);
}

TEST_CASE("a symlink loop is an error that does not stop the other extensions") {
    Node node("loop");
    node.image("hello", "hello_1.0.0_6.1.0-28-amd64.raw");
    fs::create_directories(node.store() / "zfs");
    fs::create_symlink("zfs_2.0_6.1.0-28-amd64.raw",
                       node.store() / "zfs/zfs_2.0_6.1.0-28-amd64.raw");
    fs::create_symlink("loop", node.store() / "loop");
    CHECK(node.select() == 1);
    CHECK(node.link("hello.raw") == std::string(kStoreHello) + "hello_1.0.0_6.1.0-28-amd64.raw");
    CHECK(node.link("zfs.raw").empty());
    auto store = node.store().string();
    CHECK(node.logged("cannot use " + store +
                      "/zfs/zfs_2.0_6.1.0-28-amd64.raw: Too many levels of symbolic links"));
    CHECK(node.logged("cannot read " + store + "/loop: Too many levels of symbolic links"));
}

TEST_CASE("an unreadable store is logged as an error, never a crash") {
    Node node("unreadable");
    fs::remove_all(node.store());
    SUBCASE("the store is a symlink loop") {
        fs::create_symlink("kmod-sysext", node.store());
        CHECK(node.select() == 1);
        CHECK(node.logged("cannot read " + node.store().string() +
                          ": Too many levels of symbolic links"));
    }
    SUBCASE("the store is not a directory") {
        std::ofstream(node.store()) << "oops";
        CHECK(node.select() == 1);
        CHECK(node.logged("cannot read " + node.store().string() + ": Not a directory"));
    }
    SUBCASE("the store has no read permission") {
        if (::geteuid() == 0) {
            MESSAGE("skipped: root reads a mode 000 directory anyway");
            return;
        }
        fs::create_directories(node.store());
        ::chmod(node.store().c_str(), 0);
        CHECK(node.select() == 1);
        CHECK(node.logged("cannot read " + node.store().string() + ": Permission denied"));
        ::chmod(node.store().c_str(), 0755);
    }
}

TEST_CASE("a missing store is an empty one") {
    Node node("nostore");
    fs::remove_all(node.store());
    CHECK(node.select() == 0);
    CHECK(node.logged("store " + node.store().string() + " does not exist: no images"));
}

TEST_CASE("sidecars next to the image are linked under the extension's name") {
    Node node("sidecars");
    auto key = test::make_key(node.root / "etc/verity.d", "hello-signer");
    fs::remove(key.key); // the node has the certificate only
    auto signing = test::make_key("keys", "hello-signer");
    fs::copy_file(signing.cert, key.cert, fs::copy_options::overwrite_existing);
    auto hash = test::make_signed_image(node.store() / "hello/hello_1.0.0_6.1.0-28-amd64.raw",
                                        3 * 4096, 7, signing);
    node.image("hello", "hello_0.9_6.1.0-28-amd64.roothash");
    CHECK(node.select() == 0);
    std::string stem = std::string(kStoreHello) + "hello_1.0.0_6.1.0-28-amd64";
    CHECK(node.link("hello.raw") == stem + ".raw");
    CHECK(node.link("hello.verity") == stem + ".verity");
    CHECK(node.link("hello.roothash") == stem + ".roothash");
    CHECK(node.link("hello.roothash.p7s") == stem + ".roothash.p7s");
    CHECK(node.logged(
        "verified hello_1.0.0_6.1.0-28-amd64.raw: signed by hello-signer, root hash " + hash));
}

TEST_CASE("an image whose verity sidecar is broken is not selected without it") {
    Node node("brokensidecar");
    node.image("hello", "hello_1.0.0_6.1.0-28-amd64.raw");
    fs::create_symlink("gone", node.store() / "hello/hello_1.0.0_6.1.0-28-amd64.verity");
    CHECK(node.select() == 1);
    CHECK(node.link("hello.raw").empty());
    CHECK(node.logged("cannot use " + node.store().string() +
                      "/hello/hello_1.0.0_6.1.0-28-amd64.verity: No such file or directory; not "
                      "selecting hello_1.0.0_6.1.0-28-amd64.raw without it"));
}

TEST_CASE("stale links of an earlier run are replaced or removed, sidecars included") {
    Node node("stale");
    node.write("etc/kmod-sysext/policy.conf", "SIGNATURES=optional\n");
    test::make_signed_image(node.store() / "hello/hello_1.0.0_6.1.0-28-amd64.raw", 4096, 1,
                            test::make_key("keys", "stale-signer"));
    CHECK(node.select() == 0);
    CHECK_FALSE(node.link("hello.verity").empty());

    node.image("hello", "hello_1.1.0_6.1.0-28-amd64.raw");
    CHECK(node.select() == 0);
    CHECK(node.link("hello.raw") == std::string(kStoreHello) + "hello_1.1.0_6.1.0-28-amd64.raw");
    CHECK(node.link("hello.verity").empty());
    CHECK_FALSE(fs::exists(fs::symlink_status(node.root / "run/extensions/hello.verity")));
    CHECK(node.logged("removed stale " + (node.root / "run/extensions/hello.verity").string() +
                      " -> /var/lib/kmod-sysext/hello/hello_1.0.0_6.1.0-28-amd64.verity"));
    CHECK(node.logged("removed stale " + (node.root / "run/extensions/hello.roothash").string() +
                      " -> /var/lib/kmod-sysext/hello/hello_1.0.0_6.1.0-28-amd64.roothash"));

    node.context.kernel = "6.12.5+deb12-amd64";
    CHECK(node.select() == 0);
    CHECK_FALSE(fs::exists(fs::symlink_status(node.root / "run/extensions/hello.raw")));
    CHECK(read_file(node.root / "run/kmod-sysext/selected") ==
          "# kmod-sysext-activate selection, format 1\n# kernel 6.12.5+deb12-amd64\n");
}

TEST_CASE("files in /run/extensions that select did not make are never touched") {
    Node node("foreign");
    node.image("hello", "hello_1.0.0_6.1.0-28-amd64.raw");
    node.image("zfs", "zfs_2.0_6.1.0-28-amd64.raw");
    node.write("run/extensions/hello.raw", "an administrator's own image");
    node.write("run/extensions/other.raw", "another image");
    fs::create_symlink("/somewhere/else.raw", node.root / "run/extensions/zfs.verity");
    CHECK(node.select() == 1);
    CHECK(read_file(node.root / "run/extensions/hello.raw") == "an administrator's own image");
    CHECK(read_file(node.root / "run/extensions/other.raw") == "another image");
    CHECK(node.link("zfs.verity") == "/somewhere/else.raw");
    CHECK(node.link("zfs.raw") == "/var/lib/kmod-sysext/zfs/zfs_2.0_6.1.0-28-amd64.raw");
    CHECK(node.logged("not replacing " + (node.root / "run/extensions/hello.raw").string() +
                      ": it was not made by kmod-sysext-activate"));

    // A link of ours that someone replaced is left alone when it becomes stale.
    node.context.kernel = "6.12.5+deb12-amd64";
    fs::remove(node.root / "run/extensions/zfs.raw");
    fs::create_symlink("/mine.raw", node.root / "run/extensions/zfs.raw");
    CHECK(node.select() == 0);
    CHECK(node.logged("leaving " + (node.root / "run/extensions/zfs.raw").string() +
                      " alone: changed since it was linked"));
    CHECK(node.link("zfs.raw") == "/mine.raw");
}

TEST_CASE("the selection marker rejects link names that are not plain file names") {
    CHECK_THROWS_WITH_AS(parse_selection("hello\t../../etc/passwd\t/x\n", "selected"),
                         "selected:1: link name \"../../etc/passwd\" is not a file name",
                         InputError);
    CHECK_THROWS_WITH_AS(parse_selection("hello\thello.raw\n", "selected"),
                         "selected:1: expected 3 TAB-separated fields, found 2", InputError);
    CHECK_THROWS_WITH_AS(parse_selection("# kmod-sysext-activate selection, format 7\n", "s"),
                         "s:1: unsupported format 7", InputError);
    Selection selection{"k", {{"hello", "hello.raw", "/t"}}};
    auto round_trip = parse_selection(format_selection(selection), "selected");
    CHECK(round_trip.kernel == "k");
    CHECK(round_trip.links == selection.links);
}

TEST_CASE("a store file whose version holds a quote is never selected over a well-formed image") {
    Node node("quote");
    node.image("hello", "hello_1.0.0_6.1.0-28-amd64.raw");
    node.image("hello", "hello_9\"_6.1.0-28-amd64.raw");
    CHECK(node.select() == 0);
    CHECK(node.link("hello.raw") == std::string(kStoreHello) + "hello_1.0.0_6.1.0-28-amd64.raw");
    auto ignored = [&](const std::string& file) {
        return std::count_if(node.lines.begin(), node.lines.end(), [&](const std::string& line) {
            return line.starts_with("kmod-sysext-activate: ignoring " + node.store().string() +
                                    "/hello/" + file + ": not named hello_<version>_<kernel>.raw");
        });
    };
    CHECK(ignored("hello_9\"_6.1.0-28-amd64.raw") == 1);
}

TEST_CASE("names with blanks or control characters are ignored with one escaped log line") {
    Node node("blanks");
    node.image("hello", "hello_1.0.0_6.1.0-28-amd64.raw");
    node.image("hello", "hello_2.0 beta_6.1.0-28-amd64.raw");
    node.image("hello", "hello_3.0\nselected hello_3.0_6.1.0-28-amd64.raw");
    node.image("hello", "hello_4.0\x1b[2J_6.1.0-28-amd64.raw");
    node.image("new\nline", "x");
    CHECK(node.select() == 0);
    CHECK(node.link("hello.raw") == std::string(kStoreHello) + "hello_1.0.0_6.1.0-28-amd64.raw");
    auto store = node.store().string();
    CHECK(node.logged("ignoring " + store +
                      "/new\\nline: not an extension name (lower-case "
                      "letters, digits and '-', starting with a letter or digit, at most 64 "
                      "characters)"));
    CHECK(node.all_lines().find(store + "/hello/hello_3.0\\nselected hello_3.0_6.1.0-28-amd64.raw: "
                                        "not named hello_<version>_<kernel>.raw") !=
          std::string::npos);
    CHECK(node.all_lines().find("hello_4.0\\x1b[2J_6.1.0-28-amd64.raw: not named") !=
          std::string::npos);
    for (const auto& line : node.lines) {
        CAPTURE(line);
        CHECK(std::count(line.begin(), line.end(), '\n') == 1);
        CHECK(std::none_of(line.begin(), line.end() - 1,
                           [](char c) { return static_cast<unsigned char>(c) < 0x20; }));
    }
}

namespace {

// Resolves as on kernels without openat2 while it lives.
struct WithoutOpenat2 {
    WithoutOpenat2() { use_openat2_for_tests(false); }
    ~WithoutOpenat2() { use_openat2_for_tests(true); }
    WithoutOpenat2(const WithoutOpenat2&) = delete;
    WithoutOpenat2& operator=(const WithoutOpenat2&) = delete;
};

} // namespace

TEST_CASE("select writes links and markers only beneath --root, whatever symlinks run/ holds") {
    Node node("beneath");
    auto outside = test::outside_root("beneath-outside");
    fs::create_directories(outside / "extensions");
    fs::create_directories(outside / "state");
    node.image("hello", "hello_1.0.0_6.1.0-28-amd64.raw");
    fs::create_directories(node.root / "run");
    std::string target = std::string(kStoreHello) + "hello_1.0.0_6.1.0-28-amd64.raw";
    SUBCASE("absolute symlinks resolve against the root, as on the node") {
        auto inside = node.root / outside.relative_path();
        fs::create_directories(inside / "extensions");
        fs::create_directories(inside / "state");
        fs::create_symlink(outside / "extensions", node.root / "run/extensions");
        fs::create_symlink(outside / "state", node.root / "run/kmod-sysext");
        CHECK(node.select() == 0);
        CHECK(fs::read_symlink(inside / "extensions/hello.raw") == target);
        CHECK(fs::exists(inside / "state/selected"));
        CHECK(fs::exists(inside / "state/verified"));
    }
    SUBCASE("relative symlinks that climb out stop at the root") {
        fs::create_directories(node.root / "beneath-outside/extensions");
        fs::create_directories(node.root / "beneath-outside/state");
        fs::create_symlink("../../beneath-outside/extensions", node.root / "run/extensions");
        fs::create_symlink("../../beneath-outside/state", node.root / "run/kmod-sysext");
        CHECK(node.select() == 0);
        CHECK(fs::read_symlink(node.root / "beneath-outside/extensions/hello.raw") == target);
        CHECK(fs::exists(node.root / "beneath-outside/state/selected"));
    }
    SUBCASE("a symlink to a directory that exists only outside the root is an error") {
        fs::create_symlink(outside / "extensions", node.root / "run/extensions");
        CHECK(node.select() == 1);
        CHECK(node.logged("cannot open " + (node.root / "run/extensions").string() +
                          ": No such file or directory"));
    }
    SUBCASE("without openat2 a symlink under the root is refused") {
        WithoutOpenat2 fallback;
        fs::create_symlink(outside / "extensions", node.root / "run/extensions");
        CHECK(node.select() == 1);
        CHECK(node.all_lines().find("cannot open " + (node.root / "run/extensions").string()) !=
              std::string::npos);
    }
    CHECK(test::tree_entries(outside) == std::vector<std::string>{"extensions", "state"});
}

TEST_CASE("images, pins and certificates are read beneath --root, never through a symlink out") {
    Node node("store-beneath");
    auto outside = test::outside_root("store-beneath-outside");
    const std::string k = "_6.1.0-28-amd64.raw";
    node.image("hello", "hello_1.0.0" + k);
    // Outside: a newer image, a whole extension, a pin holding hello back and a certificate
    // that would make signatures required.
    fs::create_directories(outside / "hello");
    std::ofstream(outside / ("hello/hello_2.0.0" + k)) << "image";
    fs::create_directories(outside / "zfs");
    std::ofstream(outside / ("zfs/zfs_1.0" + k)) << "image";
    fs::create_directories(outside / "etc");
    std::ofstream(outside / "etc/hello.conf") << "VERSION=0.9\n";
    auto key = test::make_key(outside / "keys", "outside");
    fs::create_symlink(outside / ("hello/hello_2.0.0" + k),
                       node.store() / ("hello/hello_2.0.0" + k));
    fs::create_symlink("../../../../store-beneath-outside/zfs", node.store() / "zfs");
    fs::create_directories(node.root / "etc");
    fs::create_symlink(outside / "etc", node.root / "etc/kmod-sysext");
    fs::create_symlink(outside / "keys", node.root / "etc/verity.d");

    CHECK(node.select() == 1);
    auto store = node.store().string();
    CHECK(node.logged("cannot use " + store + "/hello/hello_2.0.0" + k +
                      ": No such file or directory"));
    CHECK(node.logged("cannot read " + store + "/zfs: No such file or directory"));
    CHECK(node.link("hello.raw") == std::string(kStoreHello) + "hello_1.0.0" + k);
    CHECK(node.logged("not verified hello_1.0.0" + k + ": no verity data (signatures optional)"));
    CHECK(node.link("zfs.raw").empty());
}

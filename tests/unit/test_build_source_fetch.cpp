// Finding a source's tree in what its package or archive unpacked to.
#include "build/source_fetch.hpp"
#include "util/error.hpp"

#include <doctest/doctest.h>
#include <filesystem>
#include <fstream>

namespace fs = std::filesystem;
using namespace ksx;

namespace {

void touch(const fs::path& file) {
    fs::create_directories(file.parent_path());
    std::ofstream(file) << "x\n";
}

// What a -dkms .deb unpacks to: its tree in usr/src/<name>-<version>/, its docs beside.
void dkms_package(const fs::path& root, const std::string& tree) {
    touch(root / "usr/src" / tree / "dkms.conf");
    touch(root / "usr/src" / tree / "Makefile");
    touch(root / "usr/share/doc/demo-dkms/copyright");
}

manifest::SourceSpec apt_source() {
    manifest::SourceSpec source;
    source.kind = manifest::SourceSpec::Kind::Apt;
    source.package = "demo-dkms";
    source.field = "source";
    source.where = {"demo.yaml", 9, 3};
    return source;
}

} // namespace

TEST_CASE("a -dkms package's tree is found in usr/src/<name>-<version>/") {
    dkms_package("unpacked", "demo-1.0");
    auto tree = build::locate_tree(apt_source(), "unpacked", "the unpacked demo-dkms_1.0_all.deb");
    CHECK(tree.dir == fs::path("unpacked/usr/src/demo-1.0"));
    CHECK(tree.dkms_conf_looked_at ==
          "usr/src/demo-1.0/dkms.conf in the unpacked demo-dkms_1.0_all.deb");
}

TEST_CASE("several DKMS trees in one package are an error listing them and naming subdir") {
    dkms_package("unpacked", "demo-1.0");
    dkms_package("unpacked", "extra-2.1");
    touch("unpacked/usr/src/headers-only/Makefile"); // no dkms.conf: not a candidate
    CHECK_THROWS_WITH_AS(
        build::locate_tree(apt_source(), "unpacked", "the unpacked demo-dkms_1.0_all.deb"),
        "demo.yaml:9:3: source: the unpacked demo-dkms_1.0_all.deb holds 2 DKMS trees "
        "(usr/src/demo-1.0/, usr/src/extra-2.1/): set source.subdir to the one to build (e.g. "
        "subdir: usr/src/demo-1.0)",
        InputError);
}

TEST_CASE("without a dkms.conf the tree is the lone top directory and the search is told") {
    touch("unpacked/usr/src/demo-1.0/Makefile");
    touch("unpacked/usr/share/doc/demo/copyright");
    auto tree = build::locate_tree(apt_source(), "unpacked", "the unpacked demo_1.0_all.deb");
    CHECK(tree.dir == fs::path("unpacked/usr"));
    CHECK(tree.dkms_conf_looked_at ==
          "usr/dkms.conf or usr/src/*/dkms.conf in the unpacked demo_1.0_all.deb");
}

TEST_CASE("dkms: false keeps the lone top directory; a tree with dkms.conf at its top is kept") {
    dkms_package("unpacked", "demo-1.0");
    auto source = apt_source();
    source.dkms = manifest::DkmsMode::Off;
    CHECK(build::locate_tree(source, "unpacked", "it").dir == fs::path("unpacked/usr"));

    touch("tarball/demo-1.0/dkms.conf");
    touch("tarball/demo-1.0/usr/src/inner-1/dkms.conf");
    auto tree = build::locate_tree(apt_source(), "tarball", "the unpacked demo-1.0.tar.gz");
    CHECK(tree.dir == fs::path("tarball/demo-1.0"));
    CHECK(tree.dkms_conf_looked_at == "demo-1.0/dkms.conf in the unpacked demo-1.0.tar.gz");
}

TEST_CASE("dkms: PATH names the file looked for in usr/src/*/") {
    touch("unpacked/usr/src/demo-1.0/build/dkms.conf");
    touch("unpacked/usr/share/doc/demo/copyright");
    auto source = apt_source();
    source.dkms = manifest::DkmsMode::On;
    source.dkms_conf = "build/dkms.conf";
    auto tree = build::locate_tree(source, "unpacked", "it");
    CHECK(tree.dir == fs::path("unpacked/usr/src/demo-1.0"));
}

#include "container/tar_extract.hpp"
#include "tar_fixture.hpp"
#include "util/error.hpp"
#include "util/file_io.hpp"
#include "util/unique_handle.hpp"

#include <algorithm>
#include <archive.h>
#include <archive_entry.h>
#include <doctest/doctest.h>
#include <filesystem>
#include <fstream>
#include <string>
#include <sys/stat.h>
#include <vector>

namespace fs = std::filesystem;
using ksx::container::extract_tarball;
using ksx::test::failure;
using ksx::test::listing;
using ksx::test::mode_of;

namespace {

using Entry = ksx::test::TarEntry;
using ksx::test::dir_entry;
using ksx::test::file_entry;
using ksx::test::hardlink_entry;
using ksx::test::symlink_entry;

using ksx::test::write_tarball;

// Extracts a hostile tarball into <case>/sub/dest and returns the error message; nothing may be
// left in <case>, whatever the entry tried.
std::string refusal(const std::string& name, const std::vector<Entry>& entries) {
    const fs::path tarball = fs::absolute(name + ".tar");
    write_tarball(tarball, entries);
    const fs::path area = fs::absolute(name);
    fs::create_directories(area / "sub");
    std::string message;
    try {
        extract_tarball(tarball, area / "sub" / "dest");
    } catch (const ksx::InputError& e) {
        message = e.what();
    }
    CHECK(listing(area) == std::vector<std::string>{"sub"});
    return message;
}

} // namespace

TEST_CASE("tarball entries with .. components are refused") {
    auto tarball = fs::absolute("dotdot.tar").string();
    CHECK(refusal("dotdot", {file_entry("ok", "x"), file_entry("../escape", "evil")}) ==
          tarball + ": entry \"../escape\": path contains \"..\"");
    tarball = fs::absolute("inner-dotdot.tar").string();
    CHECK(refusal("inner-dotdot", {dir_entry("a"), file_entry("a/../../escape", "evil")}) ==
          tarball + ": entry \"a/../../escape\": path contains \"..\"");
}

TEST_CASE("tarball entries with absolute paths are refused") {
    auto tarball = fs::absolute("absolute.tar").string();
    CHECK(refusal("absolute", {file_entry("ok", "x"), file_entry("/ksx-abs/path", "evil")}) ==
          tarball + ": entry \"/ksx-abs/path\": path is absolute");
    CHECK_FALSE(fs::exists("/ksx-abs"));
}

TEST_CASE("a tarball entry whose name is too long says so, its name cut for the message") {
    auto tarball = fs::absolute("long.tar").string();
    CHECK(refusal("long", {file_entry("ok", "x"), file_entry(std::string(1000, 'n'), "x")}) ==
          tarball + ": entry \"" + std::string(100, 'n') +
              "\xe2\x80\xa6\": path has a component that is too long (1000 bytes, at most 255)");
}

TEST_CASE("tarball entries through a symlink are refused") {
    const auto passwd = ksx::read_file("/etc/passwd");
    auto tarball = fs::absolute("to-etc.tar").string();
    CHECK(refusal("to-etc", {symlink_entry("link", "/etc"), file_entry("link/passwd", "evil")}) ==
          tarball + ": entry \"link/passwd\": path goes through symbolic link \"link\"");
    CHECK(ksx::read_file("/etc/passwd") == passwd);

    tarball = fs::absolute("to-parent.tar").string();
    CHECK(refusal("to-parent", {symlink_entry("link", "../.."), file_entry("link/x", "evil")}) ==
          tarball + ": entry \"link/x\": path goes through symbolic link \"link\"");
    CHECK(refusal("to-parent-dir",
                  {dir_entry("d"), symlink_entry("d/up", "../../.."), dir_entry("d/up/made")})
              .ends_with(": entry \"d/up/made/\": path goes through symbolic link \"d/up\""));
}

TEST_CASE("hard links to targets outside the tarball are refused") {
    const auto passwd = ksx::read_file("/etc/passwd");
    auto tarball = fs::absolute("hard-dotdot.tar").string();
    CHECK(
        refusal("hard-dotdot", {file_entry("ok", "x"), hardlink_entry("h", "../../etc/passwd")}) ==
        tarball + ": entry \"h\": hard link target \"../../etc/passwd\" contains \"..\"");
    tarball = fs::absolute("hard-absolute.tar").string();
    CHECK(refusal("hard-absolute", {file_entry("ok", "x"), hardlink_entry("h", "/etc/passwd")}) ==
          tarball + ": entry \"h\": hard link target \"/etc/passwd\" is absolute");
    tarball = fs::absolute("hard-symlink.tar").string();
    CHECK(refusal("hard-symlink",
                  {symlink_entry("link", "/etc"), hardlink_entry("h", "link/passwd")}) ==
          tarball + ": entry \"h\": hard link target \"link/passwd\" goes through symbolic link "
                    "\"link\"");
    CHECK(ksx::read_file("/etc/passwd") == passwd);
}

TEST_CASE("a benign tarball extracts exactly") {
    write_tarball("rootfs.tar", {dir_entry("./"),
                                 dir_entry("./usr"),
                                 dir_entry("./usr/bin"),
                                 file_entry("./usr/bin/tool", "#!/bin/sh\necho hi\n", 0755),
                                 hardlink_entry("./usr/bin/tool-again", "./usr/bin/tool"),
                                 symlink_entry("bin", "usr/bin"),
                                 symlink_entry("usr/bin/sh", "/usr/bin/tool"),
                                 dir_entry("etc", 0750),
                                 file_entry("etc/secret", "s", 0600),
                                 dir_entry("proc", 0555),
                                 {"dev/null", AE_IFCHR, 0666, {}, {}, false},
                                 dir_entry("dev")});
    extract_tarball("rootfs.tar", "out/rootfs");
    CHECK(listing("out") == std::vector<std::string>{"rootfs", "rootfs/bin", "rootfs/dev",
                                                     "rootfs/etc", "rootfs/etc/secret",
                                                     "rootfs/proc", "rootfs/usr", "rootfs/usr/bin",
                                                     "rootfs/usr/bin/sh", "rootfs/usr/bin/tool",
                                                     "rootfs/usr/bin/tool-again"});
    const fs::path root = "out/rootfs";
    CHECK(ksx::read_file(root / "usr/bin/tool") == "#!/bin/sh\necho hi\n");
    CHECK(mode_of(root / "usr/bin/tool") == 0755);
    CHECK(fs::equivalent(root / "usr/bin/tool", root / "usr/bin/tool-again"));
    CHECK(fs::hard_link_count(root / "usr/bin/tool") == 2);
    CHECK(fs::read_symlink(root / "bin") == "usr/bin");
    CHECK(fs::read_symlink(root / "usr/bin/sh") == "/usr/bin/tool");
    CHECK(mode_of(root / "etc") == 0750);
    CHECK(mode_of(root / "etc/secret") == 0600);
    CHECK(mode_of(root / "proc") == 0555);
    CHECK(mode_of(root) == 0755);
    CHECK(fs::last_write_time(root / "etc/secret").time_since_epoch() ==
          fs::last_write_time(root / "usr/bin/tool").time_since_epoch());
    struct stat st {};
    REQUIRE(::stat((root / "usr/bin/tool").c_str(), &st) == 0);
    CHECK(st.st_mtime == 1700000000);
}

TEST_CASE("a zstd-compressed tarball extracts") {
    write_tarball("rootfs.tar.zst", {dir_entry("etc"), file_entry("etc/os-release", "ID=debian\n")},
                  ksx::test::TarCompression::Zstd);
    extract_tarball("rootfs.tar.zst", "zst/rootfs");
    CHECK(ksx::read_file("zst/rootfs/etc/os-release") == "ID=debian\n");
}

TEST_CASE("extracting over an existing destination is refused") {
    write_tarball("small.tar", {file_entry("f", "x")});
    fs::create_directories("exists/rootfs");
    CHECK_THROWS_AS(extract_tarball("small.tar", "exists/rootfs"), ksx::Error);
    CHECK(listing("exists") == std::vector<std::string>{"rootfs"});
}

TEST_CASE("a file that is not an archive is an input error naming it") {
    std::ofstream("junk.tar") << "not a tarball at all, just text\n";
    CHECK_THROWS_AS(extract_tarball("junk.tar", "junk/rootfs"), ksx::InputError);
    CHECK_FALSE(fs::exists("junk/rootfs"));
}

TEST_CASE("layer whiteouts remove only what lower layers left, whatever the order") {
    write_tarball("l1.tar", {dir_entry("d"), file_entry("d/old", "1"), dir_entry("d/sub"),
                             file_entry("d/sub/old", "2"), dir_entry("e"),
                             file_entry("e/keep", "3"), file_entry("f", "4")});
    // An opaque marker between the layer's own entries of that directory.
    write_tarball("l2.tar", {file_entry("d/new", "5"), file_entry("d/.wh..wh..opq", ""),
                             file_entry("d/sub/new", "6")});
    // A whiteout after the layer's own entry of the same directory, and of a missing name.
    write_tarball("l3.tar", {file_entry("e/added", "7"), file_entry(".wh.e", ""),
                             file_entry(".wh.nothing", ""), file_entry(".wh.f", "")});
    ksx::container::extract_layers({{fs::absolute("l1.tar"), "layer 1"},
                                    {fs::absolute("l2.tar"), "layer 2"},
                                    {fs::absolute("l3.tar"), "layer 3"}},
                                   "root");
    CHECK(listing("root") ==
          std::vector<std::string>{"d", "d/new", "d/sub", "d/sub/new", "e", "e/added"});
    CHECK(ksx::read_file("root/e/added") == "7");
}

TEST_CASE("a layer entry through a symbolic link stays inside the root") {
    write_tarball("l1.tar", {symlink_entry("up", "../../.."), symlink_entry("abs", "/etc")});
    write_tarball("l2.tar", {file_entry("up/escaped", "no"), file_entry("abs/passwd", "no"),
                             hardlink_entry("hl", "abs/passwd")});
    const auto passwd = ksx::read_file("/etc/passwd");
    ksx::container::extract_layers(
        {{fs::absolute("l1.tar"), "layer 1"}, {fs::absolute("l2.tar"), "layer 2"}}, "root");
    CHECK(ksx::read_file("root/escaped") == "no");
    CHECK(ksx::read_file("root/etc/passwd") == "no");
    CHECK(fs::equivalent("root/hl", "root/etc/passwd"));
    CHECK(ksx::read_file("/etc/passwd") == passwd);
    CHECK_FALSE(fs::exists(fs::absolute("..") / "escaped"));
}

TEST_CASE("a tarball hard link to the root directory is refused") {
    auto tarball = fs::absolute("hard-root.tar").string();
    CHECK(refusal("hard-root", {file_entry("ok", "x"), hardlink_entry("h", "./")}) ==
          tarball + ": entry \"h\": hard link target \"./\" is the root directory");
}

TEST_CASE("device nodes in a tarball are never made; a root filesystem keeps its fifos") {
    write_tarball("dev.tar", {file_entry("f", "x"),
                              {"null", AE_IFCHR, 0666, {}, {}, false},
                              {"sda", AE_IFBLK, 0660, {}, {}, false},
                              {"pipe", AE_IFIFO, 0644, {}, {}, false}});
    extract_tarball("dev.tar", "dev/rootfs");
    CHECK(listing("dev/rootfs") == std::vector<std::string>{"f", "pipe"});
    CHECK(fs::is_fifo(fs::symlink_status("dev/rootfs/pipe")));
}

TEST_CASE("an mtree file, whose entries could name host files to copy, is no tarball") {
    // libarchive's mtree reader would copy /etc/passwd into the tree ("contents="); the one
    // archive reader of fetch and the container does not read mtree.
    std::ofstream("host.tar") << "#mtree\n./copied type=file contents=/etc/passwd\n";
    CHECK_THROWS_AS(extract_tarball("host.tar", "mtree/rootfs"), ksx::InputError);
    CHECK_FALSE(fs::exists("mtree/rootfs"));
}

#include "fetch/fetch.hpp"
#include "tar_fixture.hpp"
#include "util/error.hpp"
#include "util/file_io.hpp"
#include "util/process.hpp"
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
using ksx::fetch::is_archive;
using ksx::fetch::unpack;
using ksx::test::failure;
using ksx::test::listing;
using ksx::test::mode_of;

namespace {

using Entry = ksx::test::TarEntry;
using ksx::test::dir_entry;
using ksx::test::file_entry;
using ksx::test::hardlink_entry;
using ksx::test::make_archive;
using ksx::test::symlink_entry;

void write_bytes(const fs::path& path, const std::string& data) {
    std::ofstream(path, std::ios::binary) << data;
}

// A .deb as dpkg builds it (ar: debian-binary, control.tar.gz, data.tar.*) around `data`.
std::string make_deb(const std::string& data_member, const std::string& data) {
    std::string control =
        make_archive(archive_write_set_format_pax_restricted, archive_write_add_filter_gzip,
                     {file_entry("./control", "Package: x\n")});
    return make_archive(archive_write_set_format_ar_svr4, archive_write_add_filter_none,
                        {file_entry("debian-binary", "2.0\n"),
                         file_entry("control.tar.gz", control), file_entry(data_member, data)});
}

// A minimal .rpm: the 96-byte lead, an empty signature header, an empty header, and a gzip
// cpio payload; libarchive reads past the headers to the payload.
std::string make_rpm(const std::vector<Entry>& entries) {
    std::string lead(96, '\0');
    lead.replace(0, 6, std::string("\xed\xab\xee\xdb\x03\x00", 6));
    lead[79] = 5; // signature type: header-style
    const std::string empty_header("\x8e\xad\xe8\x01\0\0\0\0\0\0\0\0\0\0\0\0", 16);
    return lead + empty_header + empty_header +
           make_archive(archive_write_set_format_cpio_newc, archive_write_add_filter_gzip, entries);
}

const std::vector<Entry> source_tree = {
    dir_entry("hello-1.0"),
    file_entry("hello-1.0/Makefile", "obj-m := hello.o\n"),
    file_entry("hello-1.0/hello.c", "int x;\n"),
    file_entry("hello-1.0/configure", "#!/bin/sh\n", 0755),
    symlink_entry("hello-1.0/Kbuild", "Makefile"),
    hardlink_entry("hello-1.0/hello-copy.c", "hello-1.0/hello.c"),
};

void check_source_tree(const fs::path& root, const std::vector<std::string>& files,
                       bool with_links = true) {
    std::vector<std::string> expected = {"hello-1.0/Makefile", "hello-1.0/configure",
                                         "hello-1.0/hello.c"};
    if (with_links) {
        expected.insert(expected.begin() + 2, "hello-1.0/hello-copy.c");
    }
    CHECK(files == expected);
    CHECK(ksx::read_file(root / "hello-1.0/Makefile") == "obj-m := hello.o\n");
    CHECK(mode_of(root / "hello-1.0/configure") == 0755);
    CHECK(mode_of(root) == 0755);
    if (with_links) {
        CHECK(fs::read_symlink(root / "hello-1.0/Kbuild") == "Makefile");
        CHECK(fs::equivalent(root / "hello-1.0/hello.c", root / "hello-1.0/hello-copy.c"));
    }
}

// Unpacks a hostile archive into <name>/sub/dest and returns the error; nothing may be left.
std::string refusal(const std::string& name, const std::string& bytes) {
    const fs::path file = fs::absolute(name + ".archive");
    write_bytes(file, bytes);
    const fs::path area = fs::absolute(name);
    fs::create_directories(area / "sub");
    std::string message;
    try {
        unpack(file, area / "sub" / "dest");
    } catch (const ksx::InputError& e) {
        message = e.what();
    }
    CHECK(listing(area) == std::vector<std::string>{"sub"});
    return message;
}

std::string tar(const std::vector<Entry>& entries) {
    return make_archive(archive_write_set_format_pax_restricted, archive_write_add_filter_none,
                        entries);
}

} // namespace

TEST_CASE("a tar.gz source archive unpacks with modes, links and the list of its files") {
    write_bytes("src.tar.gz", make_archive(archive_write_set_format_pax_restricted,
                                           archive_write_add_filter_gzip, source_tree));
    CHECK(is_archive("src.tar.gz"));
    auto files = unpack("src.tar.gz", "gz/out");
    check_source_tree("gz/out", files);
    CHECK(listing("gz") ==
          std::vector<std::string>{"out", "out/hello-1.0", "out/hello-1.0/Kbuild",
                                   "out/hello-1.0/Makefile", "out/hello-1.0/configure",
                                   "out/hello-1.0/hello-copy.c", "out/hello-1.0/hello.c"});
}

TEST_CASE("tar.zst, tar.xz, tar.bz2, zip and cpio archives unpack") {
    write_bytes("src.tar.zst", make_archive(archive_write_set_format_gnutar,
                                            archive_write_add_filter_zstd, source_tree));
    check_source_tree("zst", unpack("src.tar.zst", "zst"));
    write_bytes("src.tar.xz", make_archive(archive_write_set_format_ustar,
                                           archive_write_add_filter_xz, source_tree));
    check_source_tree("xz", unpack("src.tar.xz", "xz"));
    write_bytes("src.tar.bz2", make_archive(archive_write_set_format_pax_restricted,
                                            archive_write_add_filter_bzip2, source_tree));
    check_source_tree("bz2", unpack("src.tar.bz2", "bz2"));
    // libarchive's cpio and zip writers do not record links the way tar does.
    std::vector<Entry> plain(source_tree.begin(), source_tree.begin() + 4);
    write_bytes("src.cpio", make_archive(archive_write_set_format_cpio_newc,
                                         archive_write_add_filter_none, plain));
    check_source_tree("cpio", unpack("src.cpio", "cpio"), false);
    write_bytes("src.zip",
                make_archive(archive_write_set_format_zip, archive_write_add_filter_none, plain));
    check_source_tree("zip", unpack("src.zip", "zip"), false);
    for (auto name : {"src.tar.zst", "src.tar.xz", "src.tar.bz2", "src.cpio", "src.zip"}) {
        CHECK_MESSAGE(is_archive(name), name);
    }
}

TEST_CASE("a .deb built by dpkg-deb unpacks its data, not its control files") {
    fs::create_directories("pkg/DEBIAN");
    fs::create_directories("pkg/usr/bin");
    fs::create_directories("pkg/usr/lib/firmware");
    write_bytes("pkg/DEBIAN/control", "Package: ksx-test\nVersion: 1.0\nArchitecture: all\n"
                                      "Maintainer: Test <test@example.org>\n"
                                      "Description: a test package\n");
    write_bytes("pkg/usr/bin/tool", "#!/bin/sh\necho tool\n");
    fs::permissions("pkg/usr/bin/tool", fs::perms(0755));
    write_bytes("pkg/usr/lib/firmware/blob.bin", std::string(5000, '\x42'));
    fs::create_symlink("tool", "pkg/usr/bin/tool-alias");
    for (std::string compression : {"xz", "zstd", "gzip", "none"}) {
        CAPTURE(compression);
        const std::string deb = "pkg-" + compression + ".deb";
        ksx::ProcessOptions quiet;
        quiet.log_file = fs::absolute("dpkg-deb.log");
        REQUIRE(ksx::run_process(
                    {"dpkg-deb", "--root-owner-group", "-Z" + compression, "--build", "pkg", deb},
                    quiet)
                    .exit_status == 0);
        CHECK(is_archive(deb));
        const fs::path out = "deb-" + compression;
        CHECK(unpack(deb, out) ==
              std::vector<std::string>{"usr/bin/tool", "usr/lib/firmware/blob.bin"});
        CHECK(listing(out) ==
              std::vector<std::string>{"usr", "usr/bin", "usr/bin/tool", "usr/bin/tool-alias",
                                       "usr/lib", "usr/lib/firmware", "usr/lib/firmware/blob.bin"});
        CHECK(mode_of(out / "usr/bin/tool") == 0755);
        CHECK(ksx::read_file(out / "usr/lib/firmware/blob.bin") == std::string(5000, '\x42'));
    }
}

TEST_CASE("an .rpm unpacks its cpio payload") {
    write_bytes("tool.rpm", make_rpm({dir_entry("./usr"), dir_entry("./usr/bin"),
                                      file_entry("./usr/bin/tool", "binary", 0755),
                                      symlink_entry("./usr/bin/alias", "tool")}));
    CHECK(is_archive("tool.rpm"));
    CHECK(unpack("tool.rpm", "rpm") == std::vector<std::string>{"usr/bin/tool"});
    CHECK(ksx::read_file("rpm/usr/bin/tool") == "binary");
    CHECK(fs::read_symlink("rpm/usr/bin/alias") == "tool");
}

TEST_CASE("archive entries with .. components or absolute paths are refused") {
    CHECK(refusal("dotdot", tar({file_entry("ok", "x"), file_entry("../escape", "evil")})) ==
          fs::absolute("dotdot.archive").string() + ": entry \"../escape\": path contains \"..\"");
    CHECK(refusal("inner", tar({dir_entry("a"), file_entry("a/../../escape", "evil")})) ==
          fs::absolute("inner.archive").string() +
              ": entry \"a/../../escape\": path contains \"..\"");
    CHECK(refusal("absolute", tar({file_entry("/ksx-fetch-abs/path", "evil")})) ==
          fs::absolute("absolute.archive").string() +
              ": entry \"/ksx-fetch-abs/path\": path is absolute");
    CHECK_FALSE(fs::exists("/ksx-fetch-abs"));
    CHECK(refusal("zip-dotdot",
                  make_archive(archive_write_set_format_zip, archive_write_add_filter_none,
                               {file_entry("../zip-escape", "evil")})) ==
          fs::absolute("zip-dotdot.archive").string() +
              ": entry \"../zip-escape\": path contains \"..\"");
    CHECK_FALSE(fs::exists("zip-escape"));
}

TEST_CASE("an archive entry whose name is too long says so, its name cut for the message") {
    const std::string shown = std::string(100, 'n') + "\xe2\x80\xa6";
    CHECK(refusal("long", tar({file_entry("ok", "x"), file_entry(std::string(300, 'n'), "x")})) ==
          fs::absolute("long.archive").string() + ": entry \"" + shown +
              "\": path has a component that is too long (300 bytes, at most 255)");
    std::string deep;
    for (int i = 0; i < 30; ++i) {
        deep += std::string(200, 'n') + "/";
    }
    CHECK(refusal("deep", tar({file_entry(deep + "f", "x")})) ==
          fs::absolute("deep.archive").string() + ": entry \"" + shown +
              "\": path is too long (6031 bytes, at most 4095)");
    CHECK(refusal("long-link",
                  tar({file_entry("f", "x"), hardlink_entry("h", std::string(256, 'n'))})) ==
          fs::absolute("long-link.archive").string() + ": entry \"h\": hard link target \"" +
              shown + "\" has a component that is too long (256 bytes, at most 255)");
}

TEST_CASE("archive entries written through a symbolic link or hard-linked outside are refused") {
    const auto passwd = ksx::read_file("/etc/passwd");
    CHECK(
        refusal("through", tar({symlink_entry("link", "/etc"), file_entry("link/passwd", "x")})) ==
        fs::absolute("through.archive").string() +
            ": entry \"link/passwd\": path goes through symbolic link \"link\"");
    CHECK(refusal("up", tar({symlink_entry("up", "../.."), file_entry("up/x", "evil")})) ==
          fs::absolute("up.archive").string() +
              ": entry \"up/x\": path goes through symbolic link \"up\"");
    CHECK(refusal("hard", tar({hardlink_entry("h", "../../etc/passwd")})) ==
          fs::absolute("hard.archive").string() +
              ": entry \"h\": hard link target \"../../etc/passwd\" contains \"..\"");
    CHECK(refusal("hard-abs", tar({hardlink_entry("h", "/etc/passwd")})) ==
          fs::absolute("hard-abs.archive").string() +
              ": entry \"h\": hard link target \"/etc/passwd\" is absolute");
    CHECK(
        refusal("hard-link", tar({symlink_entry("l", "/etc"), hardlink_entry("h", "l/passwd")})) ==
        fs::absolute("hard-link.archive").string() +
            ": entry \"h\": hard link target \"l/passwd\" goes through symbolic link \"l\"");
    CHECK(ksx::read_file("/etc/passwd") == passwd);
}

TEST_CASE("an archive hard link to the root directory is refused") {
    CHECK(refusal("hard-root", tar({file_entry("ok", "x"), hardlink_entry("h", "./")})) ==
          fs::absolute("hard-root.archive").string() +
              ": entry \"h\": hard link target \"./\" is the root directory");
}

TEST_CASE("a hostile data.tar inside a .deb is refused naming the member") {
    std::string data =
        make_archive(archive_write_set_format_pax_restricted, archive_write_add_filter_xz,
                     {dir_entry("./usr"), file_entry("./usr/../../escape", "evil")});
    CHECK(refusal("deb", make_deb("data.tar.xz", data)) ==
          fs::absolute("deb.archive").string() +
              ": data.tar.xz: entry \"./usr/../../escape\": path contains \"..\"");
    CHECK_FALSE(fs::exists("escape"));
}

TEST_CASE("a .deb without data.tar or with a damaged one is an input error") {
    CHECK(refusal("nodata", make_deb("other.tar", tar({file_entry("f", "x")}))) ==
          fs::absolute("nodata.archive").string() + ": a .deb package without a data.tar member");
    std::string message = refusal("damaged", make_deb("data.tar.gz", "\x1f\x8b garbage"));
    CHECK(message.starts_with(fs::absolute("damaged.archive").string() + ": data.tar.gz: "));
}

TEST_CASE("unpacking over an existing destination or from a non-archive fails cleanly") {
    write_bytes("small.tar", tar({file_entry("f", "x")}));
    fs::create_directories("exists/out");
    CHECK_THROWS_WITH_AS(unpack("small.tar", "exists/out"),
                         "cannot unpack small.tar into exists/out: it already exists", ksx::Error);
    CHECK(listing("exists") == std::vector<std::string>{"out"});

    write_bytes("notes.txt", "just some text, not an archive\n");
    CHECK_THROWS_AS(unpack("notes.txt", "junk/out"), ksx::InputError);
    CHECK_FALSE(fs::exists("junk"));
}

TEST_CASE("device nodes and fifos in an archive are skipped") {
    write_bytes("dev.tar", tar({file_entry("f", "x"),
                                {"null", AE_IFCHR, 0666, {}, {}, false},
                                {"pipe", AE_IFIFO, 0644, {}, {}, false}}));
    CHECK(unpack("dev.tar", "dev") == std::vector<std::string>{"f"});
    CHECK(listing("dev") == std::vector<std::string>{"f"});
}

TEST_CASE("read-only directories in an archive stay writable for their owner") {
    write_bytes("ro.tar", tar({dir_entry("ro", 0555), file_entry("ro/f", "x", 0444)}));
    CHECK(unpack("ro.tar", "ro") == std::vector<std::string>{"ro/f"});
    CHECK(mode_of("ro/ro") == 0755);
    CHECK(mode_of("ro/ro/f") == 0444);
}

TEST_CASE("is_archive tells archives from other files by their content") {
    write_bytes("plain.tar", tar({file_entry("f", "x")}));
    CHECK(is_archive("plain.tar"));
    write_bytes("text.tar.gz", "a text file with an archive's name\n");
    CHECK_FALSE(is_archive("text.tar.gz"));
    write_bytes("empty", "");
    CHECK_FALSE(is_archive("empty"));
    write_bytes("module.ko", std::string("\x7f"
                                         "ELF\x02\x01\x01",
                                         7) +
                                 std::string(100, '\0'));
    CHECK_FALSE(is_archive("module.ko"));
    // A compressed file that holds no archive (a compressed module) is not one.
    write_bytes("module.ko.xz",
                make_archive(archive_write_set_format_raw, archive_write_add_filter_xz,
                             {file_entry("module.ko", "\x7f"
                                                      "ELF module")}));
    CHECK_FALSE(is_archive("module.ko.xz"));
    CHECK_THROWS_AS(is_archive("missing"), ksx::Error);
}

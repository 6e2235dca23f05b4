// Source trees and module files on the host: symbolic links in them never reach a host file.
#include "build/module_collect.hpp"
#include "build/source_tree.hpp"
#include "util/error.hpp"
#include "util/file_io.hpp"

#include <doctest/doctest.h>
#include <filesystem>
#include <fstream>

namespace fs = std::filesystem;

TEST_CASE("a source tree is copied with its symbolic links as links, never followed") {
    fs::create_directories("tree/sub");
    std::ofstream("tree/sub/main.c") << "int x;\n";
    fs::create_symlink("/etc/shadow", "tree/shadow");
    fs::create_symlink("/etc", "tree/etc");
    fs::create_symlink("sub/main.c", "tree/inner.c");
    fs::create_directory_symlink("tree", "tree-link"); // a manifest may name a link to its tree

    ksx::build::copy_source_tree("tree-link", "copy");
    CHECK(ksx::read_file("copy/sub/main.c") == "int x;\n");
    CHECK(fs::is_symlink("copy/shadow"));
    CHECK(fs::read_symlink("copy/shadow") == "/etc/shadow");
    CHECK(fs::is_symlink("copy/etc"));
    CHECK(fs::read_symlink("copy/etc") == "/etc");
    CHECK(fs::is_symlink("copy/inner.c"));
    CHECK(ksx::read_file("copy/inner.c") == "int x;\n");
    CHECK(fs::is_directory(fs::symlink_status("copy")));
}

TEST_CASE("a module file that is a link out of the build's directories is refused") {
    fs::create_directories("build/src");
    fs::create_directories("build/install");
    fs::create_symlink("/etc/passwd", "build/src/hello.ko");
    ksx::manifest::ModuleSpec spec;
    spec.name = "hello";
    CHECK_THROWS_WITH_AS(
        ksx::build::find_module_file(spec, "build/src", "build/install"),
        "module hello: build/src/hello.ko is a symbolic link that leads out of the build's "
        "directories (to /etc/passwd)",
        ksx::Error);
    spec.path = "hello.ko";
    CHECK_THROWS_AS(ksx::build::find_module_file(spec, "build/src", "build/install"), ksx::Error);
}

TEST_CASE("a module file linked within the build's directories is taken") {
    fs::create_directories("inbuild/src/obj");
    fs::create_directories("inbuild/install");
    std::ofstream("inbuild/src/obj/hello.ko") << "module";
    fs::create_symlink("../src/obj/hello.ko", "inbuild/install/hello.ko");
    ksx::manifest::ModuleSpec spec;
    spec.name = "hello";
    CHECK(ksx::build::find_module_file(spec, "inbuild/src", "inbuild/install") ==
          "inbuild/install/hello.ko");
}

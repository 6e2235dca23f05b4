#include "pack/layout.hpp"
#include "util/error.hpp"

#include <cstdlib>
#include <doctest/doctest.h>

using namespace ksx;

namespace {

manifest::Manifest example() {
    manifest::Manifest m;
    m.name = "hello";
    m.version = "1.0.0";
    m.target = {"debian", "12", "", "x86-64"};
    return m;
}

build::KernelBuild example_build() {
    build::KernelBuild b;
    b.kernel_release = "6.1.0-28-amd64";
    b.image_version = "1.0.0";
    build::BuiltModule core;
    core.name = "hello_core";
    core.options = "greeting=\"hi there\"";
    build::BuiltModule hello;
    hello.name = "hello";
    hello.depends = {"hello_core", "crc32c"};
    hello.kernel_depends = {"crc32c"};
    hello.load = false;
    b.modules = {core, hello};
    return b;
}

} // namespace

TEST_CASE("the image file name joins name, version and kernel release") {
    CHECK(pack::image_file_name(example(), "1.0.0", "6.12.5+deb12-amd64") ==
          "hello_1.0.0_6.12.5+deb12-amd64.raw");
}

TEST_CASE("extension-release names the OS by VERSION_ID and records the kernel") {
    CHECK(pack::extension_release(example(), example_build()) ==
          "ID=debian\nVERSION_ID=12\nARCHITECTURE=x86-64\nKMOD_SYSEXT_NAME=hello\n"
          "KMOD_SYSEXT_VERSION=1.0.0\nKMOD_SYSEXT_KERNEL=6.1.0-28-amd64\n");
}

TEST_CASE("extension-release uses SYSEXT_LEVEL instead of VERSION_ID when the manifest sets it") {
    auto m = example();
    m.target = {"flatcar", "", "1.0", "arm64"};
    auto b = example_build();
    b.kernel_release = "6.6.60-flatcar";
    CHECK(pack::extension_release(m, b) ==
          "ID=flatcar\nSYSEXT_LEVEL=1.0\nARCHITECTURE=arm64\nKMOD_SYSEXT_NAME=hello\n"
          "KMOD_SYSEXT_VERSION=1.0.0\nKMOD_SYSEXT_KERNEL=6.6.60-flatcar\n");
}

TEST_CASE("the load order file lists modules in order with paths, dependencies and options") {
    CHECK(pack::load_order(example(), example_build()) ==
          "# kmod-sysext load order, format 1\n"
          "# extension hello 1.0.0\n"
          "# kernel 6.1.0-28-amd64\n"
          "hello_core\t/usr/lib/modules/6.1.0-28-amd64/extra/hello/hello_core.ko\t-\tboot\t"
          "greeting=\"hi there\"\n"
          "hello\t/usr/lib/modules/6.1.0-28-amd64/extra/hello/"
          "hello.ko\thello_core,crc32c\tdemand\t\n");
}

TEST_CASE("the modprobe.d file sends every shipped module through the hook") {
    auto conf = pack::modprobe_conf(example(), example_build());
    CHECK(conf.find("install hello_core /usr/lib/kmod-sysext/hello/modprobe-hook hello_core "
                    "$CMDLINE_OPTS\n") != std::string::npos);
    CHECK(conf.find("install hello /usr/lib/kmod-sysext/hello/modprobe-hook hello "
                    "$CMDLINE_OPTS\n") != std::string::npos);
}

TEST_CASE("the composed tree holds the modules, metadata and extra files and no modules index") {
    auto m = example();
    manifest::FileSpec file;
    file.source = "/etc/hostname";
    file.destination = "/usr/share/hello/host";
    file.mode = 0600;
    m.files.push_back(file);
    auto tree = pack::compose(m, example_build());
    const auto& nodes = tree.nodes();
    for (const char* path :
         {"usr/lib/extension-release.d/extension-release.hello",
          "usr/lib/modules/6.1.0-28-amd64/extra/hello/hello_core.ko",
          "usr/lib/modules/6.1.0-28-amd64/extra/hello/hello.ko",
          "usr/lib/kmod-sysext/hello/modules.load", "usr/lib/kmod-sysext/hello/modprobe-hook",
          "usr/lib/modprobe.d/kmod-sysext-hello.conf", "usr/share/hello/host"}) {
        CAPTURE(path);
        CHECK(nodes.contains(path));
    }
    CHECK(nodes.at("usr/share/hello/host").mode == 0600);
    CHECK(nodes.at("usr/lib/kmod-sysext/hello/modprobe-hook").mode == 0755);
    for (const auto& [path, node] : nodes) {
        CAPTURE(path);
        CHECK(path.find("/modules.dep") == std::string::npos);
        CHECK(path.find("/modules.alias") == std::string::npos);
    }
}

TEST_CASE("SOURCE_DATE_EPOCH sets the image time and must be a number") {
    auto m = example();
    m.image.timestamp = 1000;
    ::unsetenv("SOURCE_DATE_EPOCH");
    CHECK(pack::write_options(m, 2).mtime == 1000);
    ::setenv("SOURCE_DATE_EPOCH", "1700000000", 1);
    CHECK(pack::write_options(m, 2).mtime == 1700000000);
    ::setenv("SOURCE_DATE_EPOCH", "yesterday", 1);
    CHECK_THROWS_WITH_AS(pack::write_options(m, 2),
                         "SOURCE_DATE_EPOCH: \"yesterday\" is not a number of seconds since 1970",
                         InputError);
    ::unsetenv("SOURCE_DATE_EPOCH");
}

TEST_CASE("userspace: shared moves the files out of the kernel's image into the shared one") {
    auto m = example();
    manifest::FileSpec file;
    file.source = "/etc/hostname";
    file.destination = "/usr/share/hello/hostname";
    m.files = {file};
    // per-kernel (the default): the file is in the kernel's image, no KMOD_SYSEXT_USERSPACE.
    CHECK(pack::extension_release(m, example_build()).find("USERSPACE") == std::string::npos);
    m.userspace = manifest::Userspace::Shared;
    CHECK(pack::extension_release(m, example_build()) ==
          "ID=debian\nVERSION_ID=12\nARCHITECTURE=x86-64\nKMOD_SYSEXT_NAME=hello\n"
          "KMOD_SYSEXT_VERSION=1.0.0\nKMOD_SYSEXT_KERNEL=6.1.0-28-amd64\n"
          "KMOD_SYSEXT_USERSPACE=1.0.0\n");
    CHECK(pack::userspace_image_file_name(m, "1.0.0") == "hello-userspace_1.0.0.raw");
    // Shared, but nothing to share: no shared image, and the modules image does not name one.
    m.files.clear();
    CHECK(pack::extension_release(m, example_build()).find("USERSPACE") == std::string::npos);
}

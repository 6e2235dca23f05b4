#include "contract/extension_release.hpp"
#include "contract/sidecars.hpp"

#include <doctest/doctest.h>

using namespace ksx;

TEST_CASE("an extension-release written by the builder parses back to the same fields") {
    contract::ExtensionRelease written;
    written.os = {"debian", "13", "", "x86-64"};
    written.name = "hello";
    written.version = "1.0.0";
    written.kernel = "6.12.57+deb13-amd64";
    auto text = contract::format_extension_release(written);
    CHECK(text == "ID=debian\nVERSION_ID=13\nARCHITECTURE=x86-64\nKMOD_SYSEXT_NAME=hello\n"
                  "KMOD_SYSEXT_VERSION=1.0.0\nKMOD_SYSEXT_KERNEL=6.12.57+deb13-amd64\n");
    auto read = contract::parse_extension_release(text);
    CHECK(read.os.id == "debian");
    CHECK(read.os.version_id == "13");
    CHECK(read.os.sysext_level.empty());
    CHECK(read.os.architecture == "x86-64");
    CHECK(read.name == written.name);
    CHECK(read.version == written.version);
    CHECK(read.kernel == written.kernel);
    CHECK(contract::format_extension_release(read) == text);
}

TEST_CASE("a split build's images: the shared one has no kernel, the modules one its userspace") {
    contract::ExtensionRelease shared;
    shared.os = {"debian", "13", "", "x86-64"};
    shared.name = "nvidia-open";
    shared.version = "550.163.01-2";
    auto shared_text = contract::format_extension_release(shared);
    CHECK(shared_text == "ID=debian\nVERSION_ID=13\nARCHITECTURE=x86-64\n"
                         "KMOD_SYSEXT_NAME=nvidia-open\nKMOD_SYSEXT_VERSION=550.163.01-2\n");
    auto shared_read = contract::parse_extension_release(shared_text);
    CHECK(shared_read.kernel.empty());
    CHECK(shared_read.userspace.empty());
    CHECK(contract::format_extension_release(shared_read) == shared_text);

    auto modules = shared;
    modules.kernel = "6.12.57+deb13-amd64";
    modules.userspace = "550.163.01-2";
    auto modules_text = contract::format_extension_release(modules);
    CHECK(modules_text == "ID=debian\nVERSION_ID=13\nARCHITECTURE=x86-64\n"
                          "KMOD_SYSEXT_NAME=nvidia-open\nKMOD_SYSEXT_VERSION=550.163.01-2\n"
                          "KMOD_SYSEXT_KERNEL=6.12.57+deb13-amd64\n"
                          "KMOD_SYSEXT_USERSPACE=550.163.01-2\n");
    auto modules_read = contract::parse_extension_release(modules_text);
    CHECK(modules_read.kernel == modules.kernel);
    CHECK(modules_read.userspace == "550.163.01-2");
    CHECK(contract::format_extension_release(modules_read) == modules_text);
    CHECK(contract::extension_release_path("nvidia-open-userspace") ==
          "usr/lib/extension-release.d/extension-release.nvidia-open-userspace");
}

TEST_CASE("SYSEXT_LEVEL is written instead of VERSION_ID, and read back") {
    contract::ExtensionRelease written;
    written.os = {"flatcar", "4081.2.0", "1.0", "arm64"};
    written.name = "zfs";
    written.version = "2.2.7";
    written.kernel = "6.6.60-flatcar";
    auto text = contract::format_extension_release(written);
    CHECK(text.find("VERSION_ID") == std::string::npos);
    auto read = contract::parse_extension_release(text);
    CHECK(read.os.sysext_level == "1.0");
    CHECK(read.os.version_id.empty());
    CHECK(read.kernel == "6.6.60-flatcar");
}

TEST_CASE("extension-release as other tools write it: quotes, blanks, comments, other keys") {
    auto read = contract::parse_extension_release("# made by hand\n"
                                                  "ID='debian'\r\n"
                                                  "  VERSION_ID = \"12\"\n"
                                                  "SOMETHING_ELSE=x\n"
                                                  "not a setting\n"
                                                  "KMOD_SYSEXT_NAME=\"nvidia\"\n");
    CHECK(read.os.id == "debian");
    CHECK(read.os.version_id == "12");
    CHECK(read.name == "nvidia");
    CHECK(read.kernel.empty());
}

TEST_CASE("the image's extension-release path and the sidecar names") {
    CHECK(contract::extension_release_path("hello") ==
          "usr/lib/extension-release.d/extension-release.hello");
    CHECK(contract::is_sidecar_name("hello_1.0.0_6.1.0-28-amd64.verity"));
    CHECK(contract::is_sidecar_name("hello_1.0.0_6.1.0-28-amd64.roothash"));
    CHECK(contract::is_sidecar_name("hello_1.0.0_6.1.0-28-amd64.roothash.p7s"));
    CHECK_FALSE(contract::is_sidecar_name("hello_1.0.0_6.1.0-28-amd64.raw"));
    CHECK_FALSE(contract::is_sidecar_name("hello_1.0.0_6.1.0-28-amd64.roothash.p7s.tmp"));
}

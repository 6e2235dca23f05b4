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

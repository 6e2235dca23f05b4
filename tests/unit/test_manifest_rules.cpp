// The character and path rules behind the manifest's value checks.
#include "manifest/manifest_rules.hpp"

#include <doctest/doctest.h>
#include <string>

using namespace ksx::manifest::detail;

TEST_CASE("extension names are lower-case letters, digits and inner dashes") {
    CHECK(is_extension_name("nvidia-535"));
    CHECK(is_extension_name("0day"));
    CHECK_FALSE(is_extension_name(""));
    CHECK_FALSE(is_extension_name("-x"));
    CHECK_FALSE(is_extension_name("zfs_dkms"));
    CHECK_FALSE(is_extension_name("Zfs"));
}

TEST_CASE("versions start with a letter or digit and never hold '_' or '/'") {
    CHECK(is_version("2.1.11-1~bpo12+1"));
    CHECK_FALSE(is_version("~1"));
    CHECK_FALSE(is_version("1_2"));
    CHECK_FALSE(is_version("1/2"));
}

TEST_CASE("kernel releases may not be path tricks") {
    CHECK(is_kernel_release("6.12.117+deb12-amd64"));
    CHECK(is_kernel_release("6.1.0-28-amd64"));
    CHECK_FALSE(is_kernel_release("."));
    CHECK_FALSE(is_kernel_release(".."));
    CHECK_FALSE(is_kernel_release("6.1/../x"));
    CHECK_FALSE(is_kernel_release(""));
}

TEST_CASE("names, versions and kernel releases are the activator's rule, lengths included") {
    // One definition (contract/image_name.hpp): what the builder accepts, the node accepts.
    CHECK((&is_extension_name == &ksx::contract::is_extension_name));
    CHECK((&is_kernel_release == &ksx::contract::is_kernel_release));
    CHECK(is_version(std::string(64, '1')));
    CHECK_FALSE(is_version(std::string(65, '1')));
    CHECK(is_kernel_release(std::string(64, '6')));
    CHECK_FALSE(is_kernel_release(std::string(65, '6')));
    CHECK(is_extension_name(std::string(64, 'a')));
    CHECK_FALSE(is_extension_name(std::string(65, 'a')));
}

TEST_CASE("Debian package names have at least two characters") {
    CHECK(is_debian_package("g++"));
    CHECK(is_debian_package("linux-headers-6.12-amd64"));
    CHECK_FALSE(is_debian_package("a"));
    CHECK_FALSE(is_debian_package("+x"));
    CHECK_FALSE(is_debian_package("libfoo:amd64"));
}

TEST_CASE("a mirror is an http or https URL with a host and no blanks") {
    CHECK(is_mirror_url("http://deb.debian.org/debian"));
    CHECK(is_mirror_url("https://127.0.0.1:8080/"));
    CHECK_FALSE(is_mirror_url("http://"));
    CHECK_FALSE(is_mirror_url("http:///debian"));
    CHECK_FALSE(is_mirror_url("file:///srv/debian"));
    CHECK_FALSE(is_mirror_url("http://a b/"));
    CHECK_FALSE(is_mirror_url("HTTP://deb.debian.org/"));
}

TEST_CASE("module names compare with '-' and '_' as one") {
    CHECK(module_key("nvidia-drm") == "nvidia_drm");
    CHECK(module_key("nvidia_drm") == "nvidia_drm");
    CHECK(is_module_name("Nv-drm_2"));
    CHECK_FALSE(is_module_name("nv.drm"));
}

TEST_CASE("a normal absolute path has no empty, '.' or '..' component") {
    CHECK(is_normal_absolute("/usr/share/x"));
    CHECK(is_normal_absolute("/usr/share/..x"));
    CHECK_FALSE(is_normal_absolute("/"));
    CHECK_FALSE(is_normal_absolute("usr/x"));
    CHECK_FALSE(is_normal_absolute("/usr//x"));
    CHECK_FALSE(is_normal_absolute("/usr/./x"));
    CHECK_FALSE(is_normal_absolute("/usr/x/.."));
    CHECK_FALSE(is_normal_absolute("/usr/x/"));
}

TEST_CASE("a path is under a directory only at a component boundary") {
    CHECK(is_under("/usr/lib/modules", "/usr/lib/modules"));
    CHECK(is_under("/usr/lib/modules/6.1", "/usr/lib/modules"));
    CHECK_FALSE(is_under("/usr/lib/modules-load.d/x.conf", "/usr/lib/modules"));
    CHECK_FALSE(is_under("/usr", "/usr/lib"));
}

TEST_CASE("control characters are found, other bytes are not") {
    CHECK(has_control_char("a\tb"));
    CHECK(has_control_char("a\x7f"));
    CHECK_FALSE(has_control_char("greeting=\"h\xc3\xa9llo w\""));
}

#include "container/dpkg_status.hpp"

#include <doctest/doctest.h>
#include <string>
#include <vector>

using namespace ksx::container;

namespace {

const char* const kStatus =
    "Package: linux-headers-amd64\n"
    "Status: install ok installed\n"
    "Depends: linux-headers-6.1.0-31-amd64 (= 6.1.128-1)\n"
    "Description: Header files for Linux amd64 configuration\n"
    " This package depends on the architecture-specific header files.\n"
    "\n"
    "Package: linux-headers-6.1.0-31-amd64\n"
    "Status: install ok installed\n"
    "Pre-Depends: dpkg (>= 1.19)\n"
    "Depends: linux-headers-6.1.0-31-common (= 6.1.128-1),\n"
    " linux-kbuild-6.1 (= 6.1.128-1), libc6:amd64 (>= 2.34) | libc6.1\n"
    "\n"
    "Package: linux-headers-6.12-amd64\n"
    "Status: install ok installed\n"
    "Depends: linux-headers-6.12.9+deb12-amd64 (= 6.12.9-1~deb12u1)\n"
    "\n"
    "Package: linux-headers-6.12.9+deb12-amd64\n"
    "Status: install ok installed\n"
    "Depends: linux-headers-6.12.9+deb12-common, linux-image-6.12.9+deb12-amd64\n"
    "\n"
    "Package: linux-headers-generic\n"
    "Status: install ok installed\n"
    "Depends: linux-headers-amd64\n"
    "\n"
    "Package: linux-headers-both\n"
    "Status: install ok installed\n"
    "Depends: linux-headers-6.1.0-31-amd64, linux-headers-6.12.9+deb12-amd64\n"
    "\n"
    "Package: gcc\n"
    "Status: install ok installed\n"
    "Depends: cpp, gcc-12\n"
    "\n"
    "Package: linux-headers-cloud-amd64\n"
    "Status: deinstall ok config-files\n";

} // namespace

TEST_CASE("dpkg status stanzas are parsed with continuation lines and qualifiers removed") {
    auto packages = parse_dpkg_status(kStatus);
    REQUIRE(packages.size() == 8);
    CHECK(packages[0].name == "linux-headers-amd64");
    CHECK(packages[0].installed());
    CHECK(packages[0].depends == std::vector<std::string>{"linux-headers-6.1.0-31-amd64"});
    CHECK(packages[1].depends == std::vector<std::string>{"dpkg", "linux-headers-6.1.0-31-common",
                                                          "linux-kbuild-6.1", "libc6", "libc6.1"});
    CHECK(packages[7].name == "linux-headers-cloud-amd64");
    CHECK_FALSE(packages[7].installed());
    CHECK(packages[7].depends.empty());
}

TEST_CASE("a status file without a trailing newline or with CRLF lines still parses") {
    auto packages = parse_dpkg_status("Package: a\r\nStatus: install ok installed\r\n\r\n"
                                      "Package: b\nStatus: install ok installed\nDepends: a");
    REQUIRE(packages.size() == 2);
    CHECK(packages[0].name == "a");
    CHECK(packages[0].installed());
    CHECK(packages[1].depends == std::vector<std::string>{"a"});
}

TEST_CASE("headers packages resolve to kernel releases") {
    auto packages = parse_dpkg_status(kStatus);
    CHECK(headers_release(packages, "linux-headers-amd64").release == "6.1.0-31-amd64");
    CHECK(headers_release(packages, "linux-headers-6.1.0-31-amd64").release == "6.1.0-31-amd64");
    CHECK(headers_release(packages, "linux-headers-6.12-amd64").release == "6.12.9+deb12-amd64");
    CHECK(headers_release(packages, "linux-headers-generic").release == "6.1.0-31-amd64");
}

TEST_CASE("packages that name no single kernel release explain why") {
    auto packages = parse_dpkg_status(kStatus);
    CHECK(headers_release(packages, "gcc").problem ==
          "package gcc does not depend on a linux-headers-<release> package");
    CHECK(headers_release(packages, "linux-headers-both").problem ==
          "package linux-headers-both depends on several kernel header packages: "
          "linux-headers-6.1.0-31-amd64, linux-headers-6.12.9+deb12-amd64");
    CHECK(headers_release(packages, "linux-headers-rt-amd64").problem ==
          "package linux-headers-rt-amd64 is not installed in the developer container");
    CHECK(headers_release(packages, "linux-headers-cloud-amd64").problem ==
          "package linux-headers-cloud-amd64 is not installed in the developer container (dpkg "
          "status: deinstall ok config-files)");
    CHECK(headers_release(packages, "linux-headers-cloud-amd64").release.empty());
}

TEST_CASE("a package an archive offers names its versioned headers package") {
    auto offered = [](const std::string& text) { return parse_dpkg_status(text).at(0); };
    CHECK(release_headers_package(offered("Package: linux-headers-amd64\n"
                                          "Depends: linux-headers-7.3.4+deb13-amd64 (= 7.3.4-1)\n"))
              .name == "linux-headers-7.3.4+deb13-amd64");
    CHECK(release_headers_package(offered("Package: linux-headers-7.3.4+deb13-amd64\n"
                                          "Depends: linux-headers-7.3.4+deb13-common\n"))
              .name == "linux-headers-7.3.4+deb13-amd64");
    auto none = release_headers_package(offered("Package: linux-source\nDepends: xz-utils\n"));
    CHECK(none.name.empty());
    CHECK(none.problem ==
          "package linux-source does not depend on a linux-headers-<release> package");
    auto two = release_headers_package(
        offered("Package: linux-headers-x\nDepends: linux-headers-6.1.0-1-amd64, "
                "linux-headers-6.1.0-2-amd64\n"));
    CHECK(two.problem == "package linux-headers-x depends on several kernel header packages: "
                         "linux-headers-6.1.0-1-amd64, linux-headers-6.1.0-2-amd64");
}

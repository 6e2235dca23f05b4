// Kernel selectors: release patterns and version ranges.
#include "manifest/kernel_selector.hpp"

#include <doctest/doctest.h>

using namespace ksx::manifest;

TEST_CASE("kernel versions compare number by number") {
    CHECK(compare_kernel_versions("6.12", "6.2") > 0);
    CHECK(compare_kernel_versions("6.1", "6.1.0") == 0);
    CHECK(compare_kernel_versions("6.1.90", "6.1.100") < 0);
}

TEST_CASE("the version of a release is its leading numbers") {
    CHECK(release_version("6.12.117+deb12-amd64") == "6.12.117");
    CHECK(release_version("6.1.0-56-amd64") == "6.1.0");
    CHECK(release_version("5.15.0-1.el9.x86_64") == "5.15.0");
}

TEST_CASE("a selector matches by pattern, minimum and maximum at its precision") {
    KernelSelector old_line{"", "", "6.2"};
    CHECK(selects(old_line, "6.1.0-56-amd64"));
    CHECK(selects(old_line, "6.2.9-arch1"));
    CHECK_FALSE(selects(old_line, "6.12.117+deb12-amd64"));
    KernelSelector new_line{"", "6.3", ""};
    CHECK(selects(new_line, "6.12.117+deb12-amd64"));
    CHECK_FALSE(selects(new_line, "6.1.0-56-amd64"));
    KernelSelector pattern{"6.1.*", "", ""};
    CHECK(selects(pattern, "6.1.0-56-amd64"));
    CHECK_FALSE(selects(pattern, "6.12.117+deb12-amd64"));
    CHECK(selects(KernelSelector{}, "anything"));
}

TEST_CASE("a selector describes itself for messages") {
    CHECK(describe(KernelSelector{"6.1.*", "6.1", "6.2"}) == "match \"6.1.*\", min 6.1, max 6.2");
    CHECK(describe(KernelSelector{}) == "any kernel");
}

// `container.debian.backports`: the suite's backports in sources.list and in the cache key.
#include "container/debian_container.hpp"
#include "manifest/manifest.hpp"

#include <doctest/doctest.h>

using namespace ksx;

TEST_CASE("backports add the suite's -backports line with the same components") {
    manifest::DebianContainer debian;
    debian.components = {"main", "contrib"};
    debian.backports = true;
    CHECK(container::sources_list(debian) ==
          "deb http://deb.debian.org/debian trixie contrib main\n"
          "deb http://deb.debian.org/debian trixie-updates contrib main\n"
          "deb http://deb.debian.org/debian-security trixie-security contrib main\n"
          "deb http://deb.debian.org/debian trixie-backports contrib main\n");
}

TEST_CASE("backports change the container's cache key, and only when set") {
    manifest::DebianContainer plain;
    auto with = plain;
    with.backports = true;
    CHECK(container::recipe_text(plain, {}).find("backports") == std::string::npos);
    CHECK(container::recipe_text(with, {}).ends_with("backports: yes\n"));
    CHECK(container::cache_key(plain, {}) != container::cache_key(with, {}));
}

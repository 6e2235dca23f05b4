#include "activator/version_compare.hpp"

#include <doctest/doctest.h>

using ksx::activator::compare_versions;

namespace {

int sign(int value) {
    return value < 0 ? -1 : (value > 0 ? 1 : 0);
}

} // namespace

TEST_CASE("digit runs compare as numbers, not as text") {
    CHECK(sign(compare_versions("1.10.0", "1.9.0")) == 1);
    CHECK(sign(compare_versions("1.2", "1.10")) == -1);
    CHECK(sign(compare_versions("2", "10")) == -1);
    CHECK(sign(compare_versions("1.002", "1.2")) == 0);
}

TEST_CASE("equal versions compare equal and more segments are newer") {
    CHECK(compare_versions("1.0.0", "1.0.0") == 0);
    CHECK(sign(compare_versions("1.0.1", "1.0")) == 1);
    CHECK(sign(compare_versions("1.0", "1.0.1")) == -1);
}

TEST_CASE("a tilde marks a pre-release that sorts before the release") {
    CHECK(sign(compare_versions("1.0~rc1", "1.0")) == -1);
    CHECK(sign(compare_versions("1.0~rc1", "1.0~rc2")) == -1);
    CHECK(sign(compare_versions("1.0", "1.0~rc1")) == 1);
}

TEST_CASE("a dash sorts before a dot and a caret after the release") {
    CHECK(sign(compare_versions("123-9", "123.1")) == -1);
    CHECK(sign(compare_versions("5.10.9^1", "5.10.9")) == 1);
    CHECK(sign(compare_versions("1.0-2", "1.0-10")) == -1);
}

TEST_CASE("numbers are newer than letters and longer words are newer") {
    CHECK(sign(compare_versions("1.0.a", "1.0.1")) == -1);
    CHECK(sign(compare_versions("1.0abc", "1.0abcde")) == -1);
    CHECK(sign(compare_versions("1.0b", "1.0a")) == 1);
}

TEST_CASE("the empty version is the oldest") {
    CHECK(sign(compare_versions("", "0")) == -1);
    CHECK(compare_versions("", "") == 0);
}

#include "util/atomic_file.hpp"
#include "util/error.hpp"
#include "util/sha256.hpp"

#include <doctest/doctest.h>
#include <string>

TEST_CASE("sha256 of a string matches the FIPS 180-2 example") {
    CHECK(ksx::sha256_hex("abc") ==
          "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST_CASE("sha256 of a file spanning several read chunks equals that of its content") {
    std::string content(200000, 'x');
    content += "tail";
    ksx::write_file_atomic("big", content);
    CHECK(ksx::sha256_file_hex("big") == ksx::sha256_hex(content));
}

TEST_CASE("sha256 of a missing file is an error naming it") {
    CHECK_THROWS_WITH_AS(ksx::sha256_file_hex("no-such-file.bin"),
                         "failed to open no-such-file.bin: No such file or directory", ksx::Error);
}

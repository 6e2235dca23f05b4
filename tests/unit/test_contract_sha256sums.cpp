#include "contract/sha256sums.hpp"

#include <doctest/doctest.h>
#include <string>
#include <vector>

using namespace ksx;

TEST_CASE("SHA256SUMS lines are read in both of sha256sum's modes") {
    auto h = std::string(64, 'a');
    std::vector<int> malformed;
    auto entries =
        contract::parse_sha256sums(h + "  x.raw\n" + h + " *y.raw\nnoise\n" + h + "  ../z.raw\n" +
                                       h + "  sub/z.raw\n" + std::string(64, 'A') + "  upper.raw\n",
                                   [&](int line) { malformed.push_back(line); });
    REQUIRE(entries.size() == 2);
    CHECK(entries[0].file == "x.raw");
    CHECK(entries[1].file == "y.raw");
    CHECK(entries[1].sha256 == h);
    CHECK(malformed == std::vector<int>{3, 4, 5, 6});
    CHECK(contract::parse_sha256sums("noise\n").empty()); // skipped without a callback
}

TEST_CASE("SHA256SUMS written for a release or the build cache parses back the same") {
    std::vector<contract::Sha256Sum> written{
        {std::string(64, '0'), "hello_1.0.0_6.12.57+deb13-amd64.raw"},
        {std::string(64, 'f'), "hello_1.0.0_6.12.57+deb13-amd64.roothash.p7s"},
        {"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", "index.json"}};
    auto text = contract::format_sha256sums(written);
    CHECK(text.starts_with(std::string(64, '0') + "  hello_1.0.0_6.12.57+deb13-amd64.raw\n"));
    auto read = contract::parse_sha256sums(text, [](int line) { FAIL("line ", line); });
    REQUIRE(read.size() == written.size());
    for (size_t i = 0; i < read.size(); ++i) {
        CHECK(read[i].sha256 == written[i].sha256);
        CHECK(read[i].file == written[i].file);
    }
    CHECK(contract::format_sha256sums(read) == text);
}

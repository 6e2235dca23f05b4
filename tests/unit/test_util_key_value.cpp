#include "util/error.hpp"
#include "util/key_value.hpp"

#include <doctest/doctest.h>
#include <string>
#include <utility>
#include <vector>

using namespace ksx;

namespace {

using Pairs = std::vector<std::pair<std::string, std::string>>;

Pairs pairs_of(std::string_view text, std::vector<int>* others = nullptr) {
    Pairs pairs;
    for_each_key_value(
        text,
        [&](std::string_view key, std::string_view value, int) {
            pairs.emplace_back(std::string(key), std::string(value));
        },
        [&](std::string_view, int number) {
            if (others != nullptr) {
                others->push_back(number);
            }
        });
    return pairs;
}

} // namespace

TEST_CASE("KEY=value lines: blanks trimmed, one pair of matching quotes removed") {
    std::vector<int> others;
    auto pairs = pairs_of("# comment\n"
                          "\n"
                          "A=1\n"
                          "  B = two words  \r\n"
                          "C=\"quoted\"\n"
                          "D='single'\n"
                          "E=\"unbalanced'\n"
                          "F=\n"
                          "no equals sign\n"
                          "=no key\n"
                          "G=a=b",
                          &others);
    CHECK(pairs == Pairs{{"A", "1"},
                         {"B", "two words"},
                         {"C", "quoted"},
                         {"D", "single"},
                         {"E", "\"unbalanced'"},
                         {"F", ""},
                         {"G", "a=b"}});
    CHECK(others == std::vector<int>{9, 10});
}

TEST_CASE("a settings file holding anything but KEY=value lines is refused with file and line") {
    std::vector<std::string> wheres;
    parse_key_values("A=1\n# note\nB=2\n", "/etc/kmod-sysext/x.conf",
                     [&](std::string_view, std::string_view, const std::string& where) {
                         wheres.push_back(where);
                     });
    CHECK(wheres ==
          std::vector<std::string>{"/etc/kmod-sysext/x.conf:1: ", "/etc/kmod-sysext/x.conf:3: "});
    CHECK_THROWS_WITH_AS(
        parse_key_values("A=1\nnonsense\n", "x.conf",
                         [](std::string_view, std::string_view, const std::string&) {}),
        "x.conf:2: expected KEY=value, found \"nonsense\"", InputError);
}

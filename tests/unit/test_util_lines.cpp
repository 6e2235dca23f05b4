#include "util/lines.hpp"

#include <doctest/doctest.h>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

using namespace ksx;

namespace {

using Lines = std::vector<std::pair<std::string, int>>;

Lines lines_of(std::string_view text) {
    Lines lines;
    for_each_line(text, [&](std::string_view line, int number) {
        lines.emplace_back(std::string(line), number);
    });
    return lines;
}

} // namespace

TEST_CASE("lines are numbered from 1 and come without their newline") {
    CHECK(lines_of("first\nsecond\nthird\n") == Lines{{"first", 1}, {"second", 2}, {"third", 3}});
}

TEST_CASE("a last line without a newline is a line, a final newline starts none") {
    CHECK(lines_of("a\nb") == Lines{{"a", 1}, {"b", 2}});
    CHECK(lines_of("a\n") == Lines{{"a", 1}});
    CHECK(lines_of("").empty());
}

TEST_CASE("empty lines in the middle are lines of their own and keep the numbering") {
    CHECK(lines_of("a\n\nb\n") == Lines{{"a", 1}, {"", 2}, {"b", 3}});
    CHECK(lines_of("\n\n") == Lines{{"", 1}, {"", 2}});
}

TEST_CASE("a CR stays part of its line: callers that accept CRLF trim it") {
    CHECK(lines_of("a\r\nb") == Lines{{"a\r", 1}, {"b", 2}});
}

TEST_CASE("lines view the text: no copy is made") {
    std::string text = "one\ntwo";
    std::vector<const char*> starts;
    for_each_line(text, [&](std::string_view line, int) { starts.push_back(line.data()); });
    CHECK(starts == std::vector<const char*>{text.data(), text.data() + 4});
}

TEST_CASE("an exception from the callback stops the walk") {
    int seen = 0;
    CHECK_THROWS_AS(for_each_line("a\nb\nc",
                                  [&](std::string_view, int number) {
                                      ++seen;
                                      if (number == 2) {
                                          throw std::runtime_error("stop");
                                      }
                                  }),
                    std::runtime_error);
    CHECK(seen == 2);
}

TEST_CASE("fields split at every separator, empty ones included") {
    using Fields = std::vector<std::string_view>;
    CHECK(split_fields("a\tb\tc", '\t') == Fields{"a", "b", "c"});
    CHECK(split_fields("a\t\tb", '\t') == Fields{"a", "", "b"});
    CHECK(split_fields("a\t", '\t') == Fields{"a", ""});
    CHECK(split_fields("", '\t') == Fields{""});
    CHECK(split_fields("usr/lib", '/') == Fields{"usr", "lib"});
}

TEST_CASE("take_word reads words as std::istream >> std::string does") {
    std::string_view text = " \tid  flags\v\fusage\r\nlast ";
    std::vector<std::string> words;
    for (auto word = take_word(text); !word.empty(); word = take_word(text)) {
        words.emplace_back(word);
    }
    CHECK(words == std::vector<std::string>{"id", "flags", "usage", "last"});
    CHECK(text.empty());
    std::string_view blanks = " \n\t";
    CHECK(take_word(blanks).empty());
}

TEST_CASE("take_word leaves what follows the word, its blanks included") {
    std::string_view text = "key  rest of: the line ";
    CHECK(take_word(text) == "key");
    CHECK(text == "  rest of: the line ");
    CHECK(skip_blanks(text) == "rest of: the line ");
    CHECK(skip_blanks(" \t ").empty());
}

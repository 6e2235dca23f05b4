// Positions and carets of manifest errors on unusual lines.
#include "manifest/manifest_error.hpp"
#include "manifest/source_text.hpp"

#include <doctest/doctest.h>
#include <string>

using ksx::manifest::ManifestError;
using ksx::manifest::detail::SourceText;

namespace {

YAML::Mark mark(int line, int column) {
    YAML::Mark m;
    m.line = line;
    m.column = column;
    return m;
}

} // namespace

TEST_CASE("an error quotes its line and puts the caret under the column") {
    SourceText source("first\nsecond line\nthird\n", "dir/t.yaml");
    CHECK(std::string(source.error(mark(1, 7), "field: what").what()) ==
          "dir/t.yaml:2:8: error: field: what\n"
          "second line\n"
          "       ^");
}

TEST_CASE("the caret keeps tabs and counts a multi-byte character once") {
    SourceText source("\tname: \xc3\xa9t\xc3\xa9 x\n", "t.yaml");
    CHECK(std::string(source.error(mark(0, 13), "w").what()) == "t.yaml:1:14: error: w\n"
                                                                "\tname: \xc3\xa9t\xc3\xa9 x\n"
                                                                "\t          ^");
}

TEST_CASE("a carriage return ending a line is not quoted") {
    SourceText source("a: 1\r\nb: 2\r\n", "t.yaml");
    CHECK(std::string(source.error(mark(1, 3), "w").what()) == "t.yaml:2:4: error: w\n"
                                                               "b: 2\n"
                                                               "   ^");
}

TEST_CASE("a position past the last line quotes an empty line") {
    SourceText source("a: 1\n", "t.yaml");
    CHECK(std::string(source.error(mark(5, 0), "w").what()) == "t.yaml:6:1: error: w\n"
                                                               "\n"
                                                               "^");
}

TEST_CASE("an unknown position is reported as line 1, column 1") {
    SourceText source("a: 1\n", "t.yaml");
    CHECK(std::string(source.error(YAML::Mark::null_mark(), "w").what()) == "t.yaml:1:1: error: w\n"
                                                                            "a: 1\n"
                                                                            "^");
}

TEST_CASE("a location is 1-based and names the file as given") {
    SourceText source("a: 1\n", "rel/t.yaml");
    auto where = source.location(mark(3, 4));
    CHECK(where.file == "rel/t.yaml");
    CHECK(where.line == 4);
    CHECK(where.column == 5);
}

TEST_CASE("the dash of an empty sequence item is found across comments and blank lines") {
    SourceText source("list:\n  - a\n  -  # empty\n\n  # note\nnext: 1\n", "t.yaml");
    auto dash = source.dash_before(mark(5, 0));
    CHECK(dash.line == 2);
    CHECK(dash.column == 2);
}

TEST_CASE("without a dash before it a position is kept") {
    SourceText source("a:\nb: 1\n", "t.yaml");
    auto kept = source.dash_before(mark(1, 0));
    CHECK(kept.line == 1);
    CHECK(kept.column == 0);
}

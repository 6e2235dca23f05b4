#include "util/error.hpp"
#include "util/file_io.hpp"
#include "util/process.hpp"

#include <doctest/doctest.h>

TEST_CASE("run_capture returns stdout and the exit status") {
    auto result = ksx::run_capture({"sh", "-c", "echo out; echo err >&2; exit 3"});
    CHECK(result.output == "out\n");
    CHECK(result.exit_status == 3);
}

TEST_CASE("a log file receives both output streams") {
    ksx::ProcessOptions options;
    options.log_file = "log";
    options.env = {"KSX_TEST_VALUE=42"};
    auto result = ksx::run_process({"sh", "-c", "echo $KSX_TEST_VALUE; echo err >&2"}, options);
    CHECK(result.exit_status == 0);
    CHECK(ksx::read_file("log") == "42\nerr\n");
}

TEST_CASE("a killed process reports 128 plus the signal") {
    CHECK(ksx::run_process({"sh", "-c", "kill -9 $$"}).exit_status == 137);
}

TEST_CASE("a missing program is an error naming it") {
    CHECK_THROWS_WITH_AS(ksx::run_process({"ksx-no-such-program"}),
                         "failed to run ksx-no-such-program: No such file or directory",
                         ksx::Error);
}

TEST_CASE("commands are quoted for messages") {
    CHECK(ksx::quote_command({"make", "-C", "/usr/src/x y", "it's"}) ==
          "make -C '/usr/src/x y' 'it'\\''s'");
}

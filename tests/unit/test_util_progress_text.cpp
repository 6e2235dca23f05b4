// The text of live progress lines, and the wall time per phase.
#include "util/error.hpp"
#include "util/phase_times.hpp"
#include "util/progress_text.hpp"

#include <cstdlib>
#include <doctest/doctest.h>

using namespace std::chrono_literals;

TEST_CASE("elapsed times read as seconds, then minutes, then hours") {
    CHECK(ksx::format_elapsed(0.4) == "0 s");
    CHECK(ksx::format_elapsed(59.9) == "59 s");
    CHECK(ksx::format_elapsed(65) == "1m 05s");
    CHECK(ksx::format_elapsed(3599) == "59m 59s");
    CHECK(ksx::format_elapsed(7380) == "2h 03m");
    CHECK(ksx::format_elapsed(-3) == "0 s");
}

TEST_CASE("an output line loses colours, control characters and runs of blanks") {
    CHECK(ksx::clean_output_line("  CC [M]  /build/src/hello.o") == "CC [M] /build/src/hello.o");
    CHECK(ksx::clean_output_line("\033[01;35mwarning:\033[m unused\tvariable\a") ==
          "warning: unused variable");
    CHECK(ksx::clean_output_line(" \t ") == "");
}

TEST_CASE("the latest output line is the last one that is not blank") {
    CHECK(ksx::last_output_line("  CC [M]  a.o\n  CC [M]  b.o\n\n") == "CC [M] b.o");
    // A line still being written counts; carriage returns end lines too (progress meters).
    CHECK(ksx::last_output_line("one\ntwo\r 50%\r 75%") == "75%");
    CHECK(ksx::last_output_line("\n\n") == "");
    CHECK(ksx::last_output_line("") == "");
    CHECK(ksx::last_output_line("only") == "only");
}

TEST_CASE("a line wider than the terminal is cut, counting UTF-8 characters once") {
    CHECK(ksx::fit_width("abcdef", 6) == "abcdef");
    CHECK(ksx::fit_width("abcdef", 4) == "abc…");
    CHECK(ksx::fit_width("‘x’ y z", 4) == "‘x’…");
    CHECK(ksx::fit_width("abc", 0) == "");
}

TEST_CASE("a task's live line shows its step, elapsed time and latest output") {
    CHECK(ksx::task_line("6.1.0-57-amd64", "build command 1/1", 72.5, "CC [M] /build/src/a.o") ==
          "[6.1.0-57-amd64] build command 1/1 (1m 12s): CC [M] /build/src/a.o");
    CHECK(ksx::task_line("6.1.0-57-amd64", "collecting modules", 2, "") ==
          "[6.1.0-57-amd64] collecting modules (2 s)");
}

TEST_CASE("the periodic line names what is still running, for how long, and its last output") {
    CHECK(ksx::still_line("6.12.57+deb13-amd64", ksx::Phase::Compile, 90, "LD [M] hello.ko") ==
          "[6.12.57+deb13-amd64] still compiling, 1m 30s, last: LD [M] hello.ko");
    CHECK(ksx::still_line("k", ksx::Phase::Pack, 30, "") == "[k] still packing, 30 s");
}

namespace {

struct IntervalEnv {
    explicit IntervalEnv(const char* value) {
        if (value == nullptr) {
            ::unsetenv("KSX_PROGRESS_INTERVAL");
        } else {
            ::setenv("KSX_PROGRESS_INTERVAL", value, 1);
        }
    }
    ~IntervalEnv() { ::unsetenv("KSX_PROGRESS_INTERVAL"); }
};

} // namespace

TEST_CASE("KSX_PROGRESS_INTERVAL sets the periodic line's interval, 30 s by default") {
    {
        IntervalEnv unset(nullptr);
        CHECK(ksx::progress_interval_from_environment() == 30s);
    }
    {
        IntervalEnv two("2");
        CHECK(ksx::progress_interval_from_environment() == 2s);
    }
    for (const char* bad : {"0", "-1", "1.5", "soon", "86401"}) {
        IntervalEnv wrong(bad);
        CHECK_THROWS_WITH_AS(ksx::progress_interval_from_environment(),
                             ("KSX_PROGRESS_INTERVAL: \"" + std::string(bad) +
                              "\" is not a whole number of seconds from 1 to 86400")
                                 .c_str(),
                             ksx::InputError);
    }
}

TEST_CASE("a phase counts wall time once while several tasks are in it") {
    using Clock = ksx::PhaseClock::Clock;
    const Clock::time_point t0{};
    ksx::PhaseClock clock;
    clock.enter(ksx::Phase::Compile, t0);      // kernel A compiles 0..10
    clock.enter(ksx::Phase::Compile, t0 + 4s); // kernel B compiles 4..12
    clock.leave(ksx::Phase::Compile, t0 + 10s);
    clock.enter(ksx::Phase::Pack, t0 + 10s); // A packs 10..11, while B compiles
    clock.leave(ksx::Phase::Pack, t0 + 11s);
    clock.leave(ksx::Phase::Compile, t0 + 12s);
    clock.enter(ksx::Phase::Sign, t0 + 12s); // still signing at 15
    auto seconds = clock.seconds(t0 + 15s);
    CHECK(seconds[static_cast<size_t>(ksx::Phase::Compile)] == doctest::Approx(12.0));
    CHECK(seconds[static_cast<size_t>(ksx::Phase::Pack)] == doctest::Approx(1.0));
    CHECK(seconds[static_cast<size_t>(ksx::Phase::Sign)] == doctest::Approx(3.0));
    CHECK(seconds[static_cast<size_t>(ksx::Phase::Container)] == 0.0);
    // A leave without an enter changes nothing.
    clock.leave(ksx::Phase::Fetch, t0 + 15s);
    CHECK(clock.seconds(t0 + 15s)[static_cast<size_t>(ksx::Phase::Fetch)] == 0.0);
    CHECK(ksx::phase_summary(seconds) ==
          "container 0.0 s, fetch 0.0 s, compile 12.0 s, sign 3.0 s, pack 1.0 s");
}

// The text of live progress: elapsed times, a build's latest output line, lines cut to the
// terminal's width. Pure functions; Progress decides when and where they are shown.
#pragma once

#include "util/phase_times.hpp"

#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>

namespace ksx {

// "7 s", "1m 05s", "2h 03m".
std::string format_elapsed(double seconds);

// One line of a build's output as a status line shows it: escape sequences and control
// characters removed, runs of blanks made one space, trimmed ("  CC [M]  /a.o" -> "CC [M] /a.o").
std::string clean_output_line(std::string_view line);

// The last line of `tail` (the end of a log; lines end in \n or \r) that is not blank, cleaned.
std::string last_output_line(std::string_view tail);

// `text` cut to `columns` characters (UTF-8 aware), "…" marking a cut.
std::string fit_width(std::string_view text, std::size_t columns);

// A task's live line: "[6.1.0-57-amd64] build command 1/1 (1m 05s): CC [M] /build/src/a.o".
std::string task_line(std::string_view task, std::string_view text, double seconds,
                      std::string_view last_output);

// The periodic line when not on a terminal:
// "[6.1.0-57-amd64] still compiling, 1m 30s, last: CC [M] /build/src/a.o".
std::string still_line(std::string_view task, Phase phase, double seconds,
                       std::string_view last_output);

// How often a task that is still running is reported when not on a terminal:
// KSX_PROGRESS_INTERVAL seconds (default 30; a positive whole number, else InputError).
std::chrono::seconds progress_interval_from_environment();

} // namespace ksx

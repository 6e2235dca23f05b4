// What a download shows: a live byte count and rate on a terminal (and as events), two lines
// otherwise.
#pragma once

#include "util/progress.hpp"

#include <chrono>
#include <cstdint>
#include <string>

namespace ksx::fetch {

// "512 B", "1.5 KiB", "12.3 MiB", "1.1 GiB".
std::string format_bytes(std::uint64_t bytes);

class DownloadMeter {
public:
    DownloadMeter(Progress& progress, std::string url);

    // Once, before the first attempt.
    void start();
    // Bytes so far (including a resumed prefix) of `total` (0 when unknown); at most five
    // updates a second are passed on.
    void update(std::uint64_t done, std::uint64_t total);
    // A new attempt begins with `done` bytes already present (resets the rate).
    void attempt(std::uint64_t done);
    // A line that stays (a retry notice).
    void note(const std::string& text);
    // Once, after the file was verified.
    void finish(std::uint64_t bytes);

private:
    using Clock = std::chrono::steady_clock;
    Progress& progress_;
    std::string url_;
    std::string name_; // the URL's last path component, for the live line
    Clock::time_point started_;
    Clock::time_point attempt_started_;
    Clock::time_point last_shown_;
    std::uint64_t attempt_offset_ = 0;
};

} // namespace ksx::fetch

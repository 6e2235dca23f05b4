// Progress of long work. On a terminal: a live area, one line per running task (a kernel:
// its step, elapsed time and latest build output) redrawn in place, with lasting lines
// printed above it. Otherwise: plain lines, plus "still compiling, N s, last: ..." every
// interval for a task that runs long. Optionally a stream of JSON events (one object per
// line) for CI and UIs; README.md, "Progress", describes them. `Progress::quiet()` is the
// null object that reports nothing.
#pragma once

#include "util/phase_times.hpp"

#include <array>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace ksx {

class Progress {
public:
    enum class Mode { Auto, Terminal, Plain, Quiet };
    // `events`, when set, receives the JSON event stream whatever `mode` is. A Plain mode or
    // an event stream reads KSX_PROGRESS_INTERVAL (progress_text.hpp).
    explicit Progress(Mode mode = Mode::Auto, std::FILE* out = stderr, std::FILE* events = nullptr);
    // Clears a live area left standing (an error message is printed after unwinding).
    ~Progress();
    Progress(const Progress&) = delete;
    Progress& operator=(const Progress&) = delete;

    // The null object: shows nothing.
    static Progress& quiet();

    // A step of the work that has no task of its own ("container: extracting rootfs.tar"):
    // on a terminal the live area's last line, otherwise printed as one line.
    void step(const std::string& text);
    // A line that stays (results, warnings).
    void line(const std::string& text);

    // Task `name` (a kernel release) starts or moves on to `text` in `phase`; its time counts
    // under `phase` until its next step or done().
    void task(const std::string& name, Phase phase, const std::string& text);
    // The task's latest output line is the last line of `log` (a build log being appended to).
    void watch(const std::string& name, const std::filesystem::path& log);
    // How far the task's step is ("12 of 40 files"), in place of an output line; shown on a
    // terminal only.
    void detail(const std::string& name, const std::string& text);
    // The task has finished (built, failed or packed): its live line goes.
    void done(const std::string& name);

    // A download's state: `text` for the terminal's live line, the numbers for the events.
    struct Transfer {
        std::string name;
        std::uint64_t bytes = 0;
        std::uint64_t total = 0; // 0: unknown
        std::uint64_t rate = 0;  // bytes per second
    };
    void transfer(const std::string& text, const Transfer& transfer);

    // Counts the time until the scope ends under `phase` (work that is not a task's).
    class Scope {
    public:
        Scope(Progress& progress, Phase phase);
        ~Scope();
        Scope(const Scope&) = delete;
        Scope& operator=(const Scope&) = delete;

    private:
        Progress& progress_;
        Phase phase_;
    };

    // Wall time in each phase so far.
    std::array<double, kPhaseCount> phase_seconds() const;
    // Prints "time: container 12.3 s, ..." (and a summary event).
    void summary();
    // Clears the live area (before the program prints its result).
    void finish();
    bool is_terminal() const { return mode_ == Mode::Terminal; }

private:
    using Clock = std::chrono::steady_clock;
    struct Task {
        std::string name;
        Phase phase;
        std::string text;
        Clock::time_point step_started;
        Clock::time_point last_reported; // the last "still" line or event
        std::filesystem::path log;
        std::string last_output;
    };
    Task* find_locked(const std::string& name);
    void print_locked(const std::string& text); // a lasting line, above the live area
    void event_locked(const std::string& json); // one line of the event stream
    double since_start(Clock::time_point now) const;
    void erase_locked();
    void draw_locked();
    void tick(std::stop_token stop);
    void tick_locked(Clock::time_point now);

    Mode mode_;
    std::FILE* out_;
    std::FILE* events_;
    std::chrono::seconds interval_{30};
    Clock::time_point started_ = Clock::now();
    mutable std::mutex mutex_;
    std::vector<Task> tasks_;                 // in the order they started
    std::string general_;                     // step() text shown in the live area
    Clock::time_point general_started_{};     // since when (a download's updates keep it)
    std::vector<std::string> drawn_;          // the live area's lines as last drawn
    Clock::time_point last_transfer_event_{}; // download events: at most one a second
    PhaseClock phases_;
    std::condition_variable_any wake_;
    std::jthread ticker_; // last: stopped before the rest goes
};

} // namespace ksx

#include "util/progress.hpp"

#include "util/progress_text.hpp"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sys/ioctl.h>
#include <unistd.h>

namespace ksx {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

// How often a terminal's live area is redrawn.
constexpr auto kRedraw = 250ms;
// How much of a log's end is read for its latest line.
constexpr std::streamoff kTail = 4096;

std::size_t terminal_columns(std::FILE* out) {
    winsize size{};
    if (::ioctl(::fileno(out), TIOCGWINSZ, &size) == 0 && size.ws_col > 0) {
        return size.ws_col;
    }
    if (const char* columns = std::getenv("COLUMNS")) {
        if (long value = std::strtol(columns, nullptr, 10); value > 0) {
            return static_cast<std::size_t>(value);
        }
    }
    return 80;
}

// The last line of a log, "" when it cannot be read (yet).
std::string last_line_of(const fs::path& log) {
    std::ifstream in(log, std::ios::binary);
    if (!in) {
        return {};
    }
    in.seekg(0, std::ios::end);
    const std::streamoff size = in.tellg();
    const std::streamoff from = std::max<std::streamoff>(0, size - kTail);
    in.seekg(from);
    std::string tail(static_cast<std::size_t>(size - from), '\0');
    in.read(tail.data(), static_cast<std::streamsize>(tail.size()));
    tail.resize(static_cast<std::size_t>(in.gcount()));
    return last_output_line(tail);
}

double rounded(double seconds) {
    return std::round(seconds * 1000.0) / 1000.0;
}

// One line of the event stream: {"event": NAME, "time": seconds since the start, ...fields}.
std::string event_json(const char* name, double time, const nlohmann::ordered_json& fields) {
    nlohmann::ordered_json event{{"event", name}, {"time", time}};
    for (const auto& [key, value] : fields.items()) {
        event[key] = value;
    }
    // Build output is not always UTF-8: invalid bytes become U+FFFD rather than an exception.
    return event.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

} // namespace

Progress::Progress(Mode mode, std::FILE* out, std::FILE* events)
    : mode_(mode), out_(out), events_(events) {
    if (mode_ == Mode::Auto) {
        mode_ = ::isatty(::fileno(out_)) ? Mode::Terminal : Mode::Plain;
    }
    if (mode_ == Mode::Plain || events_ != nullptr) {
        interval_ = progress_interval_from_environment();
    }
    if (mode_ != Mode::Quiet || events_ != nullptr) {
        ticker_ = std::jthread([this](std::stop_token stop) { tick(stop); });
    }
}

Progress::~Progress() {
    ticker_.request_stop();
    if (ticker_.joinable()) {
        ticker_.join();
    }
    finish();
}

Progress& Progress::quiet() {
    static Progress none(Mode::Quiet);
    return none;
}

double Progress::since_start(Clock::time_point now) const {
    return rounded(std::chrono::duration<double>(now - started_).count());
}

void Progress::event_locked(const std::string& json) {
    std::fputs(json.c_str(), events_);
    std::fputc('\n', events_);
    std::fflush(events_);
}

void Progress::print_locked(const std::string& text) {
    erase_locked();
    std::fputs(text.c_str(), out_);
    std::fputc('\n', out_);
}

Progress::Task* Progress::find_locked(const std::string& name) {
    auto found = std::find_if(tasks_.begin(), tasks_.end(),
                              [&](const Task& task) { return task.name == name; });
    return found == tasks_.end() ? nullptr : &*found;
}

void Progress::erase_locked() {
    if (drawn_.empty()) {
        return;
    }
    std::fputs("\r\033[K", out_);
    for (std::size_t i = 1; i < drawn_.size(); ++i) {
        std::fputs("\033[A\033[K", out_);
    }
    drawn_.clear();
}

void Progress::draw_locked() {
    if (mode_ != Mode::Terminal) {
        return;
    }
    // One column left free: a line as wide as the terminal would wrap on some.
    const std::size_t width = std::max<std::size_t>(terminal_columns(out_), 20) - 1;
    const auto now = Clock::now();
    std::vector<std::string> lines;
    for (const auto& task : tasks_) {
        const double seconds = std::chrono::duration<double>(now - task.step_started).count();
        lines.push_back(
            fit_width(task_line(task.name, task.text, seconds, task.last_output), width));
    }
    if (!general_.empty()) {
        // A step that lasts (a container being made) shows for how long, as a task's does.
        const double seconds = std::chrono::duration<double>(now - general_started_).count();
        lines.push_back(fit_width(
            seconds < 1.0 ? general_ : general_ + " (" + format_elapsed(seconds) + ")", width));
    }
    if (lines == drawn_) {
        return;
    }
    erase_locked();
    for (std::size_t i = 0; i < lines.size(); ++i) {
        if (i > 0) {
            std::fputc('\n', out_);
        }
        std::fputs(lines[i].c_str(), out_);
    }
    drawn_ = std::move(lines);
    std::fflush(out_);
}

void Progress::step(const std::string& text) {
    std::lock_guard lock(mutex_);
    if (events_ != nullptr) {
        event_locked(event_json("step", since_start(Clock::now()), {{"text", text}}));
    }
    if (mode_ == Mode::Terminal) {
        general_ = text;
        general_started_ = Clock::now();
        draw_locked();
    } else if (mode_ == Mode::Plain) {
        print_locked(text);
        std::fflush(out_);
    }
}

void Progress::line(const std::string& text) {
    std::lock_guard lock(mutex_);
    if (events_ != nullptr) {
        event_locked(event_json("message", since_start(Clock::now()), {{"text", text}}));
    }
    if (mode_ == Mode::Quiet) {
        return;
    }
    print_locked(text);
    draw_locked();
    std::fflush(out_);
}

void Progress::task(const std::string& name, Phase phase, const std::string& text) {
    std::lock_guard lock(mutex_);
    const auto now = Clock::now();
    if (auto* task = find_locked(name)) {
        if (task->phase != phase) {
            phases_.leave(task->phase, now);
            phases_.enter(phase, now);
            task->phase = phase;
        }
        task->text = text;
        task->last_output.clear();
        task->step_started = now;
        task->last_reported = now;
    } else {
        phases_.enter(phase, now);
        tasks_.push_back({name, phase, text, now, now, {}, {}});
    }
    general_.clear(); // a step without a task (a download) is over when a task moves on
    if (events_ != nullptr) {
        event_locked(event_json(
            "step", since_start(now),
            {{"task", name}, {"phase", std::string(phase_name(phase))}, {"text", text}}));
    }
    if (mode_ == Mode::Terminal) {
        draw_locked();
    } else if (mode_ == Mode::Plain) {
        print_locked("[" + name + "] " + text);
        std::fflush(out_);
    }
}

void Progress::watch(const std::string& name, const fs::path& log) {
    std::lock_guard lock(mutex_);
    if (auto* task = find_locked(name)) {
        task->log = log;
    }
}

void Progress::detail(const std::string& name, const std::string& text) {
    std::lock_guard lock(mutex_);
    if (auto* task = find_locked(name)) {
        task->last_output = text;
        draw_locked();
    }
}

void Progress::done(const std::string& name) {
    std::lock_guard lock(mutex_);
    auto* task = find_locked(name);
    if (task == nullptr) {
        return;
    }
    const auto now = Clock::now();
    phases_.leave(task->phase, now);
    tasks_.erase(tasks_.begin() + (task - tasks_.data()));
    if (events_ != nullptr) {
        event_locked(event_json("done", since_start(now), {{"task", name}}));
    }
    draw_locked();
}

void Progress::transfer(const std::string& text, const Transfer& transfer) {
    std::lock_guard lock(mutex_);
    const auto now = Clock::now();
    if (events_ != nullptr &&
        (now - last_transfer_event_ >= 1s || transfer.bytes == transfer.total)) {
        last_transfer_event_ = now;
        event_locked(event_json("download", since_start(now),
                                {{"name", transfer.name},
                                 {"bytes", transfer.bytes},
                                 {"total", transfer.total},
                                 {"rate", transfer.rate}}));
    }
    if (mode_ == Mode::Terminal) {
        general_ = text;
        draw_locked();
    }
}

Progress::Scope::Scope(Progress& progress, Phase phase) : progress_(progress), phase_(phase) {
    std::lock_guard lock(progress_.mutex_);
    progress_.phases_.enter(phase_, Clock::now());
}

Progress::Scope::~Scope() {
    std::lock_guard lock(progress_.mutex_);
    progress_.phases_.leave(phase_, Clock::now());
}

std::array<double, kPhaseCount> Progress::phase_seconds() const {
    std::lock_guard lock(mutex_);
    return phases_.seconds(Clock::now());
}

void Progress::summary() {
    const auto seconds = phase_seconds();
    std::lock_guard lock(mutex_);
    if (events_ != nullptr) {
        nlohmann::ordered_json phases;
        for (std::size_t i = 0; i < kPhaseCount; ++i) {
            phases[std::string(phase_name(static_cast<Phase>(i)))] = rounded(seconds[i]);
        }
        event_locked(event_json("summary", since_start(Clock::now()), {{"phases", phases}}));
    }
    if (mode_ != Mode::Quiet) {
        print_locked("time: " + phase_summary(seconds));
        draw_locked();
        std::fflush(out_);
    }
}

void Progress::finish() {
    std::lock_guard lock(mutex_);
    general_.clear();
    tasks_.clear();
    erase_locked();
    std::fflush(out_);
}

void Progress::tick(std::stop_token stop) {
    const auto period = mode_ == Mode::Terminal
                            ? std::chrono::milliseconds(kRedraw)
                            : std::min<std::chrono::milliseconds>(1s, interval_);
    std::unique_lock lock(mutex_);
    while (!wake_.wait_for(lock, stop, period, [] { return false; }) && !stop.stop_requested()) {
        tick_locked(Clock::now());
    }
}

void Progress::tick_locked(Clock::time_point now) {
    for (auto& task : tasks_) {
        if (!task.log.empty()) {
            if (auto latest = last_line_of(task.log); !latest.empty()) {
                task.last_output = std::move(latest);
            }
        }
        if ((mode_ != Mode::Plain && events_ == nullptr) || now - task.last_reported < interval_) {
            continue;
        }
        task.last_reported = now;
        const double seconds = std::chrono::duration<double>(now - task.step_started).count();
        if (events_ != nullptr) {
            event_locked(event_json("still", since_start(now),
                                    {{"task", task.name},
                                     {"phase", std::string(phase_name(task.phase))},
                                     {"text", task.text},
                                     {"seconds", rounded(seconds)},
                                     {"last", task.last_output}}));
        }
        if (mode_ == Mode::Plain) {
            print_locked(still_line(task.name, task.phase, seconds, task.last_output));
            std::fflush(out_);
        }
    }
    draw_locked();
}

} // namespace ksx

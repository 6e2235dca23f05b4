// Progress and status lines: a live, rewritten line on a terminal, plain lines otherwise.
#pragma once

#include <cstdio>
#include <mutex>
#include <string>

namespace ksx {

class Progress {
public:
    enum class Mode { Auto, Terminal, Plain, Quiet };
    explicit Progress(Mode mode = Mode::Auto, std::FILE* out = stderr);
    // Clears a transient line left standing (an error message is printed after unwinding).
    ~Progress() { finish(); }
    Progress(const Progress&) = delete;
    Progress& operator=(const Progress&) = delete;

    // A step that is starting ("[6.1.0-28-amd64] compiling"); on a terminal it replaces the
    // previous transient line, otherwise it is printed as one line.
    void step(const std::string& text);
    // A line that stays (results, warnings).
    void line(const std::string& text);
    // Clears the transient line (before the program prints its result).
    void finish();
    bool is_terminal() const { return mode_ == Mode::Terminal; }

private:
    void clear_locked();
    Mode mode_;
    std::FILE* out_;
    std::mutex mutex_;
    bool transient_ = false;
};

} // namespace ksx

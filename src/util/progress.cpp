#include "util/progress.hpp"

#include <unistd.h>

namespace ksx {

Progress::Progress(Mode mode, std::FILE* out) : mode_(mode), out_(out) {
    if (mode_ == Mode::Auto) {
        mode_ = ::isatty(::fileno(out_)) ? Mode::Terminal : Mode::Plain;
    }
}

void Progress::clear_locked() {
    if (transient_) {
        std::fputs("\r\033[K", out_);
        transient_ = false;
    }
}

void Progress::step(const std::string& text) {
    std::lock_guard lock(mutex_);
    switch (mode_) {
    case Mode::Quiet:
        return;
    case Mode::Terminal:
        clear_locked();
        std::fputs(text.c_str(), out_);
        transient_ = true;
        break;
    default:
        std::fputs(text.c_str(), out_);
        std::fputc('\n', out_);
        break;
    }
    std::fflush(out_);
}

void Progress::line(const std::string& text) {
    std::lock_guard lock(mutex_);
    if (mode_ == Mode::Quiet) {
        return;
    }
    clear_locked();
    std::fputs(text.c_str(), out_);
    std::fputc('\n', out_);
    std::fflush(out_);
}

void Progress::finish() {
    std::lock_guard lock(mutex_);
    clear_locked();
    std::fflush(out_);
}

} // namespace ksx

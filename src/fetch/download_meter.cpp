#include "fetch/download_meter.hpp"

#include <cstdio>

namespace ksx::fetch {

namespace {

constexpr auto kRefresh = std::chrono::milliseconds(200);

std::string last_component(const std::string& url) {
    std::string path = url.substr(0, url.find_first_of("?#"));
    while (!path.empty() && path.back() == '/') {
        path.pop_back();
    }
    auto slash = path.rfind('/');
    return slash == std::string::npos ? path : path.substr(slash + 1);
}

double seconds_since(std::chrono::steady_clock::time_point start) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

} // namespace

std::string format_bytes(std::uint64_t bytes) {
    static constexpr const char* units[] = {"KiB", "MiB", "GiB", "TiB"};
    if (bytes < 1024) {
        return std::to_string(bytes) + " B";
    }
    double value = static_cast<double>(bytes) / 1024.0;
    size_t unit = 0;
    while (value >= 1024.0 && unit + 1 < std::size(units)) {
        value /= 1024.0;
        ++unit;
    }
    char text[32];
    std::snprintf(text, sizeof text, "%.1f %s", value, units[unit]);
    return text;
}

DownloadMeter::DownloadMeter(Progress& progress, std::string url)
    : progress_(progress), url_(std::move(url)), name_(last_component(url_)) {}

void DownloadMeter::start() {
    started_ = Clock::now();
    progress_.step("downloading " + url_);
}

void DownloadMeter::attempt(std::uint64_t done) {
    attempt_started_ = Clock::now();
    attempt_offset_ = done;
}

void DownloadMeter::update(std::uint64_t done, std::uint64_t total) {
    auto now = Clock::now();
    if (now - last_shown_ < kRefresh && done != total) {
        return;
    }
    last_shown_ = now;
    std::string text = "downloading " + name_ + ": " + format_bytes(done);
    if (total > 0) {
        text += " / " + format_bytes(total);
    }
    double elapsed = seconds_since(attempt_started_);
    std::uint64_t rate = 0;
    if (elapsed > 0.0 && done >= attempt_offset_) {
        rate = static_cast<std::uint64_t>(static_cast<double>(done - attempt_offset_) / elapsed);
        text += ", " + format_bytes(rate) + "/s";
    }
    progress_.transfer(text, {name_, done, total, rate});
}

void DownloadMeter::note(const std::string& text) {
    progress_.line(text);
}

void DownloadMeter::finish(std::uint64_t bytes) {
    char seconds[32];
    std::snprintf(seconds, sizeof seconds, "%.1f s", seconds_since(started_));
    std::string text = "downloaded " + url_ + ": " + format_bytes(bytes) + " in " + seconds;
    if (progress_.is_terminal()) {
        progress_.step(text);
    } else {
        progress_.line(text);
    }
}

} // namespace ksx::fetch

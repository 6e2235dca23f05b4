#include "util/progress_text.hpp"

#include "util/error.hpp"

#include <cstdio>
#include <cstdlib>

namespace ksx {

std::string format_elapsed(double seconds) {
    auto whole = static_cast<long long>(seconds < 0 ? 0 : seconds);
    char text[48];
    if (whole < 60) {
        std::snprintf(text, sizeof text, "%lld s", whole);
    } else if (whole < 3600) {
        std::snprintf(text, sizeof text, "%lldm %02llds", whole / 60, whole % 60);
    } else {
        std::snprintf(text, sizeof text, "%lldh %02lldm", whole / 3600, whole % 3600 / 60);
    }
    return text;
}

std::string clean_output_line(std::string_view line) {
    std::string out;
    bool blank = false;
    for (std::size_t i = 0; i < line.size(); ++i) {
        auto c = static_cast<unsigned char>(line[i]);
        if (c == 0x1b) {
            // CSI "ESC [ params final" (colours); any other escape: the ESC and its next byte.
            if (i + 1 < line.size() && line[i + 1] == '[') {
                i += 2;
                while (i < line.size() && !(line[i] >= 0x40 && line[i] <= 0x7e)) {
                    ++i;
                }
            } else {
                ++i;
            }
            continue;
        }
        if (c < 0x20 || c == 0x7f || c == ' ') {
            blank = true;
            continue;
        }
        if (blank && !out.empty()) {
            out += ' ';
        }
        blank = false;
        out += static_cast<char>(c);
    }
    return out;
}

std::string last_output_line(std::string_view tail) {
    while (!tail.empty()) {
        auto end = tail.find_last_not_of("\r\n");
        if (end == std::string_view::npos) {
            break;
        }
        tail = tail.substr(0, end + 1);
        auto start = tail.find_last_of("\r\n");
        auto line =
            clean_output_line(start == std::string_view::npos ? tail : tail.substr(start + 1));
        if (!line.empty()) {
            return line;
        }
        if (start == std::string_view::npos) {
            break;
        }
        tail = tail.substr(0, start);
    }
    return {};
}

std::string fit_width(std::string_view text, std::size_t columns) {
    // Characters are counted by their first byte: UTF-8 continuation bytes are 10xxxxxx.
    auto is_start = [](char c) { return (static_cast<unsigned char>(c) & 0xc0) != 0x80; };
    std::size_t count = 0;
    for (char c : text) {
        count += is_start(c) ? 1 : 0;
    }
    if (count <= columns) {
        return std::string(text);
    }
    if (columns == 0) {
        return {};
    }
    std::size_t kept = 0;
    std::size_t end = 0;
    for (; end < text.size(); ++end) {
        if (is_start(text[end]) && kept++ == columns - 1) {
            break;
        }
    }
    return std::string(text.substr(0, end)) + "…";
}

std::string task_line(std::string_view task, std::string_view text, double seconds,
                      std::string_view last_output) {
    auto line =
        "[" + std::string(task) + "] " + std::string(text) + " (" + format_elapsed(seconds) + ")";
    if (!last_output.empty()) {
        line += ": " + std::string(last_output);
    }
    return line;
}

std::string still_line(std::string_view task, Phase phase, double seconds,
                       std::string_view last_output) {
    auto line = "[" + std::string(task) + "] still " + std::string(phase_doing(phase)) + ", " +
                format_elapsed(seconds);
    if (!last_output.empty()) {
        line += ", last: " + std::string(last_output);
    }
    return line;
}

std::chrono::seconds progress_interval_from_environment() {
    const char* value = std::getenv("KSX_PROGRESS_INTERVAL");
    if (value == nullptr || *value == '\0') {
        return std::chrono::seconds(30);
    }
    char* end = nullptr;
    long seconds = std::strtol(value, &end, 10);
    if (*end != '\0' || seconds <= 0 || seconds > 86400) {
        throw InputError("KSX_PROGRESS_INTERVAL: \"" + std::string(value) +
                         "\" is not a whole number of seconds from 1 to 86400");
    }
    return std::chrono::seconds(seconds);
}

} // namespace ksx

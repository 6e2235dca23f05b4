#include "util/phase_times.hpp"

#include <cstdio>

namespace ksx {

namespace {

std::size_t index(Phase phase) {
    return static_cast<std::size_t>(phase);
}

double between(PhaseClock::Clock::time_point from, PhaseClock::Clock::time_point to) {
    return std::chrono::duration<double>(to - from).count();
}

} // namespace

std::string_view phase_name(Phase phase) {
    static constexpr std::array<std::string_view, kPhaseCount> names{"container", "fetch",
                                                                     "compile", "sign", "pack"};
    return names[index(phase)];
}

std::string_view phase_doing(Phase phase) {
    static constexpr std::array<std::string_view, kPhaseCount> doing{
        "preparing the container", "fetching", "compiling", "signing", "packing"};
    return doing[index(phase)];
}

void PhaseClock::enter(Phase phase, Clock::time_point now) {
    if (active_[index(phase)]++ == 0) {
        since_[index(phase)] = now;
    }
}

void PhaseClock::leave(Phase phase, Clock::time_point now) {
    auto& active = active_[index(phase)];
    if (active > 0 && --active == 0) {
        done_[index(phase)] += between(since_[index(phase)], now);
    }
}

std::array<double, kPhaseCount> PhaseClock::seconds(Clock::time_point now) const {
    auto seconds = done_;
    for (std::size_t i = 0; i < kPhaseCount; ++i) {
        if (active_[i] > 0) {
            seconds[i] += between(since_[i], now);
        }
    }
    return seconds;
}

std::string phase_summary(const std::array<double, kPhaseCount>& seconds) {
    std::string text;
    for (std::size_t i = 0; i < kPhaseCount; ++i) {
        char value[32];
        std::snprintf(value, sizeof value, " %.1f s", seconds[i]);
        text += (i == 0 ? "" : ", ") + std::string(phase_name(static_cast<Phase>(i))) + value;
    }
    return text;
}

} // namespace ksx

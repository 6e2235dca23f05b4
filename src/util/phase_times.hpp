// The phases a build's time is reported under, and the wall time spent in each.
#pragma once

#include <array>
#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>

namespace ksx {

enum class Phase { Container, Fetch, Compile, Sign, Pack };
inline constexpr std::size_t kPhaseCount = 5;

// "container", "fetch", "compile", "sign", "pack".
std::string_view phase_name(Phase phase);
// "preparing the container", "fetching", "compiling", "signing", "packing".
std::string_view phase_doing(Phase phase);

// Wall time per phase: a phase counts while at least one task is in it, so kernels compiling
// at the same time count once; different phases may overlap (one kernel packs while the next
// compiles). Not thread-safe: Progress holds its lock around it.
class PhaseClock {
public:
    using Clock = std::chrono::steady_clock;
    void enter(Phase phase, Clock::time_point now);
    void leave(Phase phase, Clock::time_point now);
    // Seconds per phase up to `now` (a phase still running counts up to now).
    std::array<double, kPhaseCount> seconds(Clock::time_point now) const;

private:
    std::array<int, kPhaseCount> active_{};
    std::array<Clock::time_point, kPhaseCount> since_{};
    std::array<double, kPhaseCount> done_{};
};

// "container 12.3 s, fetch 0.4 s, compile 35.0 s, sign 0.2 s, pack 1.1 s".
std::string phase_summary(const std::array<double, kPhaseCount>& seconds);

} // namespace ksx

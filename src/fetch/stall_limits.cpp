// StallLimits from the environment, so CI can tune them for every download path at once.
#include "fetch/fetch.hpp"
#include "util/error.hpp"

#include <charconv>
#include <cstdlib>
#include <string_view>

namespace ksx::fetch {

namespace {

// The whole number in variable `name`, or `fallback` when it is unset or empty.
long from_environment(const char* name, long fallback) {
    const char* text = std::getenv(name);
    if (text == nullptr || *text == '\0') {
        return fallback;
    }
    std::string_view value = text;
    long number = 0;
    auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), number);
    if (ec != std::errc() || end != value.data() + value.size() || number < 0) {
        throw InputError(std::string(name) + ": \"" + std::string(value.substr(0, 40)) +
                         "\" is not a whole number (0 turns the limit off)");
    }
    return number;
}

} // namespace

StallLimits stall_limits_from_environment() {
    StallLimits limits;
    limits.low_speed_limit = from_environment("KSX_DOWNLOAD_LOW_SPEED", limits.low_speed_limit);
    limits.low_speed_time_s =
        from_environment("KSX_DOWNLOAD_LOW_SPEED_TIME", limits.low_speed_time_s);
    limits.deadline_s = from_environment("KSX_DOWNLOAD_DEADLINE", limits.deadline_s);
    return limits;
}

} // namespace ksx::fetch

// Which failed download attempts are worth repeating, and how long to wait first.
#pragma once

#include <chrono>
#include <curl/curl.h>

namespace ksx::fetch {

// Network errors, truncated bodies, timeouts, HTTP 408, 429 and 5xx may pass; anything else
// (404, a refused protocol, too many redirects, a local write error) will not.
bool is_transient(CURLcode code, long http_status);

// Exponential backoff: base, 2 base, 4 base … for the 1st, 2nd, 3rd … failure. A server's
// Retry-After (seconds, negative when absent) is honoured up to `retry_after_cap_s`.
std::chrono::milliseconds retry_delay(unsigned failures, double base_s, long retry_after_s,
                                      long retry_after_cap_s);

} // namespace ksx::fetch

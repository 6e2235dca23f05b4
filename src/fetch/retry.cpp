#include "fetch/retry.hpp"

#include <algorithm>
#include <cmath>

namespace ksx::fetch {

bool is_transient(CURLcode code, long http_status) {
    switch (code) {
    case CURLE_HTTP_RETURNED_ERROR:
        return http_status == 408 || http_status == 429 || http_status >= 500;
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_CONNECT:
    case CURLE_PARTIAL_FILE:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
    case CURLE_HTTP3:
        return true;
    default:
        return false;
    }
}

std::chrono::milliseconds retry_delay(unsigned failures, double base_s, long retry_after_s,
                                      long retry_after_cap_s) {
    const unsigned doublings = std::min(failures == 0 ? 0U : failures - 1, 16U);
    double seconds = base_s * std::ldexp(1.0, static_cast<int>(doublings));
    if (retry_after_s >= 0) {
        seconds =
            std::max(seconds, static_cast<double>(std::min(retry_after_s, retry_after_cap_s)));
    }
    return std::chrono::milliseconds(static_cast<long long>(seconds * 1000.0));
}

} // namespace ksx::fetch

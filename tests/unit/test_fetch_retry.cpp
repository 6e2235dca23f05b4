#include "fetch/retry.hpp"

#include <doctest/doctest.h>

using ksx::fetch::is_transient;
using ksx::fetch::retry_delay;
using std::chrono::milliseconds;

TEST_CASE("the backoff doubles from its base with every failure") {
    CHECK(retry_delay(1, 0.5, -1, 60) == milliseconds(500));
    CHECK(retry_delay(2, 0.5, -1, 60) == milliseconds(1000));
    CHECK(retry_delay(3, 0.5, -1, 60) == milliseconds(2000));
    CHECK(retry_delay(4, 0.5, -1, 60) == milliseconds(4000));
}

TEST_CASE("Retry-After lengthens the wait up to the cap but never shortens it") {
    CHECK(retry_delay(1, 0.5, 3, 60) == milliseconds(3000));
    CHECK(retry_delay(1, 0.5, 3600, 60) == milliseconds(60000));
    CHECK(retry_delay(4, 0.5, 1, 60) == milliseconds(4000));
}

TEST_CASE("network errors, 408, 429 and 5xx are retried; other failures are not") {
    CHECK(is_transient(CURLE_COULDNT_CONNECT, 0));
    CHECK(is_transient(CURLE_PARTIAL_FILE, 200));
    CHECK(is_transient(CURLE_OPERATION_TIMEDOUT, 0));
    CHECK(is_transient(CURLE_HTTP_RETURNED_ERROR, 500));
    CHECK(is_transient(CURLE_HTTP_RETURNED_ERROR, 503));
    CHECK(is_transient(CURLE_HTTP_RETURNED_ERROR, 429));
    CHECK(is_transient(CURLE_HTTP_RETURNED_ERROR, 408));
    CHECK_FALSE(is_transient(CURLE_HTTP_RETURNED_ERROR, 404));
    CHECK_FALSE(is_transient(CURLE_HTTP_RETURNED_ERROR, 403));
    CHECK_FALSE(is_transient(CURLE_UNSUPPORTED_PROTOCOL, 302));
    CHECK_FALSE(is_transient(CURLE_TOO_MANY_REDIRECTS, 302));
    CHECK_FALSE(is_transient(CURLE_WRITE_ERROR, 200));
}

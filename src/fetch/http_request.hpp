// One small HTTP request whose whole answer is wanted: status, headers and body (a registry's
// JSON), unlike download(), which streams a verified file into the cache.
#pragma once

#include "fetch/fetch.hpp"

#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace ksx::fetch {

struct HttpResponse {
    long status = 0;
    std::vector<std::pair<std::string, std::string>> headers; // names lower-case; last response
    std::string body;

    // The first header of this name (lower-case), or "".
    std::string header(std::string_view name) const;
};

struct HttpRequest {
    std::string url;
    bool head = false;                // HEAD instead of GET
    std::vector<std::string> headers; // "Name: value", in addition to options.headers
    std::size_t max_body = 8 << 20;   // a longer body is an error
};

// Sends the request, retrying network errors and HTTP 408, 429 and 5xx like download(), and
// returns the last response whatever its status. Throws TransferError when no response came.
HttpResponse http_request(const HttpRequest& request, const DownloadOptions& options);

} // namespace ksx::fetch

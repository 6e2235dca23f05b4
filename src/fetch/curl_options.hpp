// The libcurl options every request of the fetch stage shares.
#pragma once

#include "fetch/curl_easy.hpp"
#include "fetch/fetch.hpp"
#include "util/unique_handle.hpp"

#include <curl/curl.h>
#include <string>
#include <vector>

namespace ksx::fetch {

// An owned list of "Name: value" request headers.
class HeaderList {
public:
    explicit HeaderList(const std::vector<std::string>& headers);
    curl_slist* get() const { return list_.get(); }

private:
    UniqueHandle<curl_slist, curl_slist_free_all> list_;
};

// URL, http/https only (also after redirects), redirects followed, timeouts, user agent,
// certificate checks (or none, with options.verify_tls false), CA file, extra headers.
void set_request_options(CurlEasy& curl, const std::string& url, const DownloadOptions& options,
                         const HeaderList& headers);

// True for the codes of a server that was never reached (name, connection, connect timeout).
bool is_unreachable(CURLcode code);

// True for the codes of a failed TLS handshake (a plain HTTP server answering on the port).
bool is_tls_failure(CURLcode code);

} // namespace ksx::fetch

#include "fetch/curl_options.hpp"

#include "util/error.hpp"

namespace ksx::fetch {

HeaderList::HeaderList(const std::vector<std::string>& headers) {
    for (const auto& header : headers) {
        curl_slist* grown = curl_slist_append(list_.get(), header.c_str());
        if (grown == nullptr) {
            throw Error("out of memory building HTTP headers");
        }
        (void)list_.release();
        list_.reset(grown);
    }
}

void set_request_options(CurlEasy& curl, const std::string& url, const DownloadOptions& options,
                         const HeaderList& headers) {
    curl.set(CURLOPT_URL, url);
    curl.set(CURLOPT_PROTOCOLS_STR, "http,https");
    curl.set(CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    curl.set(CURLOPT_FOLLOWLOCATION, 1L);
    curl.set(CURLOPT_MAXREDIRS, 10L);
    curl.set(CURLOPT_NOSIGNAL, 1L);
    curl.set(CURLOPT_CONNECTTIMEOUT, options.connect_timeout_s);
    if (options.stall.low_speed_limit > 0 && options.stall.low_speed_time_s > 0) {
        curl.set(CURLOPT_LOW_SPEED_LIMIT, options.stall.low_speed_limit);
        curl.set(CURLOPT_LOW_SPEED_TIME, options.stall.low_speed_time_s);
    }
    curl.set(CURLOPT_USERAGENT, "kmod-sysext/" KSX_VERSION);
    if (!options.ca_file.empty()) {
        curl.set(CURLOPT_CAINFO, options.ca_file.string());
    }
    if (!options.verify_tls) {
        curl.set(CURLOPT_SSL_VERIFYPEER, 0L);
        curl.set(CURLOPT_SSL_VERIFYHOST, 0L);
    }
    // libcurl drops a custom Authorization header when a redirect leaves the host, so a
    // registry's token never reaches the storage a blob redirects to.
    curl.set_pointer(CURLOPT_HTTPHEADER, headers.get());
}

bool is_unreachable(CURLcode code) {
    return code == CURLE_COULDNT_RESOLVE_HOST || code == CURLE_COULDNT_RESOLVE_PROXY ||
           code == CURLE_COULDNT_CONNECT || code == CURLE_OPERATION_TIMEDOUT;
}

bool is_tls_failure(CURLcode code) {
    return code == CURLE_SSL_CONNECT_ERROR || code == CURLE_PEER_FAILED_VERIFICATION ||
           code == CURLE_SSL_CERTPROBLEM;
}

} // namespace ksx::fetch

#include "fetch/http_request.hpp"

#include "fetch/curl_easy.hpp"
#include "fetch/curl_options.hpp"
#include "fetch/retry.hpp"
#include "fetch/transfer_error.hpp"
#include "util/text.hpp"

#include <cstdio>
#include <thread>

namespace ksx::fetch {

namespace {

class Exchange {
public:
    Exchange(const HttpRequest& request, const DownloadOptions& options)
        : request_(request), headers_(all_headers(request, options)) {
        set_request_options(curl_, request.url, options, headers_);
        if (request.head) {
            curl_.set(CURLOPT_NOBODY, 1L);
        }
        curl_.set_function(CURLOPT_HEADERFUNCTION, &Exchange::on_header);
        curl_.set_pointer(CURLOPT_HEADERDATA, this);
        curl_.set_function(CURLOPT_WRITEFUNCTION, &Exchange::on_data);
        curl_.set_pointer(CURLOPT_WRITEDATA, this);
    }

    CURLcode run() {
        response_ = {};
        too_long_ = false;
        CURLcode code = curl_.perform();
        response_.status = curl_.response_code();
        return code;
    }
    HttpResponse& response() { return response_; }
    bool too_long() const { return too_long_; }
    std::string error_text(CURLcode code) const { return curl_.error_text(code); }
    long retry_after_s() const {
        curl_off_t seconds = 0;
        if (curl_easy_getinfo(curl_.get(), CURLINFO_RETRY_AFTER, &seconds) == CURLE_OK &&
            seconds > 0) {
            return static_cast<long>(seconds);
        }
        return -1;
    }

private:
    static std::vector<std::string> all_headers(const HttpRequest& request,
                                                const DownloadOptions& options) {
        auto out = options.headers;
        out.insert(out.end(), request.headers.begin(), request.headers.end());
        return out;
    }

    static size_t on_header(char* data, size_t size, size_t count, void* self) {
        auto* exchange = static_cast<Exchange*>(self);
        std::string_view line(data, size * count);
        if (line.starts_with("HTTP/")) {
            exchange->response_.headers.clear(); // a new response (after a redirect)
        } else if (auto colon = line.find(':'); colon != std::string_view::npos) {
            exchange->response_.headers.emplace_back(
                ascii_lower(trim_blanks(line.substr(0, colon))),
                trim_blanks(line.substr(colon + 1)));
        }
        return size * count;
    }

    static size_t on_data(char* data, size_t size, size_t count, void* self) {
        auto* exchange = static_cast<Exchange*>(self);
        if (exchange->response_.body.size() + size * count > exchange->request_.max_body) {
            exchange->too_long_ = true;
            return 0;
        }
        exchange->response_.body.append(data, size * count);
        return size * count;
    }

    const HttpRequest& request_;
    HeaderList headers_;
    CurlEasy curl_;
    HttpResponse response_;
    bool too_long_ = false;
};

} // namespace

std::string HttpResponse::header(std::string_view name) const {
    for (const auto& [key, value] : headers) {
        if (key == name) {
            return value;
        }
    }
    return {};
}

HttpResponse http_request(const HttpRequest& request, const DownloadOptions& options) {
    Exchange exchange(request, options);
    for (unsigned failures = 0;; ++failures) {
        CURLcode code = exchange.run();
        if (exchange.too_long()) {
            throw Error(request.url + ": the response is longer than " +
                        std::to_string(request.max_body) + " bytes");
        }
        long status = exchange.response().status;
        bool transient = code == CURLE_OK ? is_transient(CURLE_HTTP_RETURNED_ERROR, status)
                                          : is_transient(code, 0);
        if (!transient || failures >= options.retries) {
            if (code != CURLE_OK) {
                std::string after =
                    failures > 0 ? " after " + std::to_string(failures + 1) + " attempts" : "";
                throw TransferError(request.url + ": request failed" + after + ": " +
                                        exchange.error_text(code),
                                    0, is_unreachable(code), is_tls_failure(code));
            }
            return std::move(exchange.response());
        }
        auto delay = retry_delay(failures + 1, options.retry_base_s, exchange.retry_after_s(),
                                 options.retry_after_cap_s);
        char seconds[32];
        std::snprintf(seconds, sizeof seconds, "%.1f s", static_cast<double>(delay.count()) / 1000);
        std::string why =
            code == CURLE_OK ? "HTTP " + std::to_string(status) : exchange.error_text(code);
        options.progress.line(request.url + ": " + why + ", retrying in " + seconds);
        std::this_thread::sleep_for(delay);
    }
}

} // namespace ksx::fetch

#include "fetch/curl_easy.hpp"
#include "fetch/curl_options.hpp"
#include "fetch/download_meter.hpp"
#include "fetch/fetch.hpp"
#include "fetch/partial_download.hpp"
#include "fetch/retry.hpp"
#include "fetch/transfer_error.hpp"
#include "util/error.hpp"
#include "util/file_io.hpp"
#include "util/sha256.hpp"
#include "util/text.hpp"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <stdexcept>
#include <thread>

namespace fs = std::filesystem;

namespace ksx::fetch {

namespace {

std::string checked_sha256(const std::string& url, const std::string& sha256) {
    std::string out = ascii_lower(sha256);
    if (out.size() != 64 || out.find_first_not_of("0123456789abcdef") != std::string::npos) {
        throw InputError(url + ": sha256 must be 64 hexadecimal digits, not \"" + sha256 + "\"");
    }
    return out;
}

void check_scheme(const std::string& url) {
    if (!url.starts_with("http://") && !url.starts_with("https://")) {
        throw InputError(url + ": only http:// and https:// URLs can be downloaded");
    }
}

// True when `path` holds a verified copy; removes a damaged one so it is fetched again.
bool cached(const fs::path& path, const std::string& sha256) {
    std::error_code ec;
    auto status = fs::symlink_status(path, ec);
    if (status.type() == fs::file_type::not_found) {
        return false;
    }
    if (status.type() == fs::file_type::regular && fs::file_size(path) > 0 &&
        sha256_file_hex(path) == sha256) {
        return true;
    }
    fs::remove(path);
    return false;
}

// The outcome of one request.
struct Attempt {
    CURLcode code = CURLE_OK;
    long status = 0;            // HTTP status of the last response
    long retry_after_s = -1;    // the server's Retry-After, when it sent one
    bool range_refused = false; // 416: what we hold is no prefix of the file
    std::string error;
};

// One download into the partial file, resumed after what it already holds.
class Transfer {
public:
    Transfer(const std::string& url, PartialDownload& partial, DownloadMeter& meter,
             const DownloadOptions& options);
    Attempt run();
    // True when what the partial file holds continues what it held before the first attempt.
    bool resumed() const { return resumed_; }
    // Body bytes the last attempt received.
    std::uint64_t received() const { return received_; }

private:
    static size_t on_header(char* data, size_t size, size_t count, void* self);
    static size_t on_data(char* data, size_t size, size_t count, void* self);
    static int on_progress(void* self, curl_off_t total, curl_off_t now, curl_off_t, curl_off_t);
    // Called with the response's first bytes: decides whether they continue the partial file.
    void begin_body();
    // True when the last attempt got a connection to the server.
    bool connected();

    CurlEasy curl_;
    StallLimits stall_;
    HeaderList headers_;
    PartialDownload& partial_;
    DownloadMeter& meter_;
    std::uint64_t offset_ = 0; // bytes the request asked to skip
    std::uint64_t base_ = 0;   // bytes before this response's body in the file
    bool body_started_ = false;
    std::string content_range_;
    std::string failure_; // an exception from a callback (they must not cross libcurl)
    bool misplaced_ = false;
    bool resumed_ = false;
    std::uint64_t received_ = 0;
};

Transfer::Transfer(const std::string& url, PartialDownload& partial, DownloadMeter& meter,
                   const DownloadOptions& options)
    : stall_(options.stall), headers_(options.headers), partial_(partial), meter_(meter) {
    set_request_options(curl_, url, options, headers_);
    curl_.set(CURLOPT_FAILONERROR, 1L);
    curl_.set_function(CURLOPT_HEADERFUNCTION, &Transfer::on_header);
    curl_.set_pointer(CURLOPT_HEADERDATA, this);
    curl_.set_function(CURLOPT_WRITEFUNCTION, &Transfer::on_data);
    curl_.set_pointer(CURLOPT_WRITEDATA, this);
    curl_.set_function(CURLOPT_XFERINFOFUNCTION, &Transfer::on_progress);
    curl_.set_pointer(CURLOPT_XFERINFODATA, this);
    curl_.set(CURLOPT_NOPROGRESS, 0L);
}

size_t Transfer::on_header(char* data, size_t size, size_t count, void* self) {
    auto* transfer = static_cast<Transfer*>(self);
    std::string_view line(data, size * count);
    if (line.starts_with("HTTP/")) {
        transfer->content_range_.clear(); // a new response (after a redirect)
    }
    constexpr std::string_view name = "content-range:";
    if (line.size() > name.size() && ascii_lower(line.substr(0, name.size())) == name) {
        transfer->content_range_ = trim_blanks(line.substr(name.size()));
    }
    return size * count;
}

void Transfer::begin_body() {
    body_started_ = true;
    if (offset_ == 0) {
        return;
    }
    if (curl_.response_code() != 206) {
        base_ = 0;
        resumed_ = false;
        partial_.restart(); // the server sent the whole file instead
        return;
    }
    // "bytes START-END/TOTAL": the body must start where the partial file ends.
    std::uint64_t start = 0;
    bool parsed = false;
    if (content_range_.starts_with("bytes ")) {
        try {
            size_t used = 0;
            start = std::stoull(content_range_.substr(6), &used);
            parsed = used > 0;
        } catch (const std::exception&) {
            parsed = false;
        }
    }
    if (!parsed || start != offset_) {
        misplaced_ = true;
        throw Error("the server resumed with \"Content-Range: " + content_range_ +
                    "\" instead of at byte " + std::to_string(offset_));
    }
    resumed_ = true;
}

size_t Transfer::on_data(char* data, size_t size, size_t count, void* self) {
    auto* transfer = static_cast<Transfer*>(self);
    try {
        if (!transfer->body_started_) {
            transfer->begin_body();
        }
        transfer->partial_.append(std::string_view(data, size * count));
        transfer->received_ += size * count;
        return size * count;
    } catch (const std::exception& e) {
        transfer->failure_ = e.what();
        return 0; // makes libcurl stop with CURLE_WRITE_ERROR
    }
}

int Transfer::on_progress(void* self, curl_off_t total, curl_off_t now, curl_off_t, curl_off_t) {
    auto* transfer = static_cast<Transfer*>(self);
    const std::uint64_t base = transfer->base_;
    transfer->meter_.update(base + static_cast<std::uint64_t>(now),
                            total > 0 ? base + static_cast<std::uint64_t>(total) : 0);
    return 0;
}

Attempt Transfer::run() {
    offset_ = partial_.size();
    base_ = offset_;
    body_started_ = false;
    content_range_.clear();
    failure_.clear();
    misplaced_ = false;
    received_ = 0;
    if (offset_ == 0) {
        resumed_ = false; // whatever was resumed before is gone
    }
    if (offset_ > 0) {
        curl_.set(CURLOPT_RANGE, std::to_string(offset_) + "-");
    } else {
        curl_.set(CURLOPT_RANGE, static_cast<const char*>(nullptr));
    }
    meter_.attempt(offset_);
    Attempt attempt;
    attempt.code = curl_.perform();
    attempt.status = curl_.response_code();
    curl_off_t retry_after = 0;
    if (curl_easy_getinfo(curl_.get(), CURLINFO_RETRY_AFTER, &retry_after) == CURLE_OK &&
        retry_after > 0) {
        attempt.retry_after_s = static_cast<long>(retry_after);
    }
    if (attempt.code == CURLE_WRITE_ERROR && !failure_.empty()) {
        if (!misplaced_) {
            throw Error(failure_); // our own disk, not the network
        }
        partial_.restart();
        attempt.code = CURLE_PARTIAL_FILE; // worth another try from the start
        attempt.error = failure_;
        return attempt;
    }
    if (attempt.code == CURLE_HTTP_RETURNED_ERROR) {
        attempt.range_refused = attempt.status == 416 && offset_ > 0;
        attempt.error = "HTTP " + std::to_string(attempt.status);
    } else if (attempt.code == CURLE_UNSUPPORTED_PROTOCOL) {
        // Only a redirect gets here: the URL itself was checked before.
        char* redirect = nullptr;
        curl_easy_getinfo(curl_.get(), CURLINFO_EFFECTIVE_URL, &redirect);
        attempt.error = std::string("refused a redirect to ") + (redirect ? redirect : "?") +
                        " (only http and https are allowed)";
    } else if (attempt.code == CURLE_OPERATION_TIMEDOUT && connected()) {
        // Past the connection, only the low-speed limit times a transfer out.
        attempt.error = "the server stalled (less than " + std::to_string(stall_.low_speed_limit) +
                        " bytes/s for " + std::to_string(stall_.low_speed_time_s) + " s)";
    } else if (attempt.code != CURLE_OK) {
        attempt.error = curl_.error_text(attempt.code);
    }
    return attempt;
}

bool Transfer::connected() {
    curl_off_t connect_us = 0;
    return curl_.response_code() > 0 ||
           (curl_easy_getinfo(curl_.get(), CURLINFO_CONNECT_TIME_T, &connect_us) == CURLE_OK &&
            connect_us > 0);
}

// Fills `partial` from `url`, retrying transient failures with backoff until the retries or
// the deadline run out. Returns true when some of the data continued what `partial` held.
bool fetch_into(const std::string& url, PartialDownload& partial, DownloadMeter& meter,
                const DownloadOptions& options) {
    using Clock = std::chrono::steady_clock;
    const auto& stall = options.stall;
    // The deadline runs from the start, and again after an attempt that moved real data (as
    // much as the low-speed limit asks for in its time), which a stalling or trickling server
    // never does: a long transfer cut off late is still resumed.
    const std::uint64_t progress = static_cast<std::uint64_t>(
        std::max(1L, stall.low_speed_limit * std::max(1L, stall.low_speed_time_s)));
    auto deadline_from = [&](Clock::time_point start) {
        return stall.deadline_s > 0 ? start + std::chrono::seconds(stall.deadline_s)
                                    : Clock::time_point::max();
    };
    auto deadline = deadline_from(Clock::now());
    Transfer transfer(url, partial, meter, options);
    unsigned failures = 0;
    bool restarted = false;
    for (;;) {
        Attempt attempt = transfer.run();
        if (attempt.code == CURLE_OK) {
            return transfer.resumed();
        }
        if (attempt.range_refused && !restarted) {
            // What an earlier run left is longer than the file now is: start over, once.
            restarted = true;
            partial.restart();
            continue;
        }
        if (transfer.received() >= progress) {
            deadline = deadline_from(Clock::now());
        }
        const bool transient = is_transient(attempt.code, attempt.status);
        auto delay = retry_delay(failures + 1, options.retry_base_s, attempt.retry_after_s,
                                 options.retry_after_cap_s);
        const bool too_late = Clock::now() + delay >= deadline;
        if (!transient || failures >= options.retries || too_late) {
            std::string after =
                failures > 0 ? " after " + std::to_string(failures + 1) + " attempts" : "";
            std::string why = attempt.error;
            if (transient && failures < options.retries) {
                why += "; gave up at the " + std::to_string(stall.deadline_s) +
                       " s deadline (KSX_DOWNLOAD_DEADLINE)";
            }
            throw TransferError(url + ": download failed" + after + ": " + why, attempt.status,
                                is_unreachable(attempt.code), is_tls_failure(attempt.code));
        }
        ++failures;
        char seconds[32];
        std::snprintf(seconds, sizeof seconds, "%.1f s", static_cast<double>(delay.count()) / 1000);
        meter.note(url + ": " + attempt.error + ", retrying in " + seconds);
        std::this_thread::sleep_for(delay);
    }
}

} // namespace

fs::path download(const std::string& url, const std::string& sha256,
                  const DownloadOptions& options) {
    check_scheme(url);
    const std::string expected = checked_sha256(url, sha256);
    const fs::path dir =
        (options.cache_dir.empty() ? cache_dir() : options.cache_dir) / "downloads";
    fs::create_directories(dir);
    const fs::path target = dir / expected;
    if (cached(target, expected)) {
        return target;
    }
    PartialDownload partial(dir / (expected + ".partial"));
    if (cached(target, expected)) {
        partial.discard(); // another run finished it while we waited for the lock
        return target;
    }
    DownloadMeter meter(options.progress, options.label.empty() ? url : options.label);
    meter.start();
    partial.rehash();
    auto fetch = [&] {
        try {
            return fetch_into(url, partial, meter, options);
        } catch (const std::exception&) {
            if (partial.size() == 0) {
                partial.discard(); // nothing worth resuming
            }
            throw;
        }
    };
    if ((partial.size() == 0 || partial.sha256() != expected) && fetch() &&
        partial.sha256() != expected) {
        // What was resumed was no prefix of the file (a damaged partial file, a file changed
        // on the server): the whole file once more, from its first byte.
        meter.note(url + ": sha256 mismatch after resuming a partial download; downloading it "
                         "again from the start");
        partial.restart();
        fetch();
    }
    const std::string actual = partial.sha256();
    if (actual != expected) {
        partial.discard();
        throw Error(url + ": sha256 mismatch: expected " + expected + ", got " + actual);
    }
    partial.commit(target);
    meter.finish(partial.size());
    return target;
}

} // namespace ksx::fetch

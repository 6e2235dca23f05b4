#include "fetch/curl_easy.hpp"

#include "util/error.hpp"

namespace ksx::fetch {

namespace {

void global_init() {
    // curl_global_init is not thread-safe; a function-local static runs it exactly once.
    static const CURLcode result = curl_global_init(CURL_GLOBAL_DEFAULT);
    if (result != CURLE_OK) {
        throw Error(std::string("failed to initialise libcurl: ") + curl_easy_strerror(result));
    }
}

} // namespace

CurlEasy::CurlEasy() : error_buffer_(CURL_ERROR_SIZE, '\0') {
    global_init();
    handle_.reset(curl_easy_init());
    if (!handle_) {
        throw Error("failed to create a libcurl handle");
    }
    set_pointer(CURLOPT_ERRORBUFFER, error_buffer_.data());
}

std::string CurlEasy::error_text(CURLcode code) const {
    std::string text = error_buffer_.c_str();
    return text.empty() ? curl_easy_strerror(code) : text;
}

void CurlEasy::check(CURLoption option, CURLcode code) const {
    if (code != CURLE_OK) {
        throw Error("failed to set libcurl option " + std::to_string(static_cast<int>(option)) +
                    ": " + curl_easy_strerror(code));
    }
}

void CurlEasy::set(CURLoption option, long value) {
    check(option, curl_easy_setopt(handle_.get(), option, value));
}

void CurlEasy::set(CURLoption option, const char* value) {
    check(option, curl_easy_setopt(handle_.get(), option, value));
}

void CurlEasy::set_pointer(CURLoption option, void* value) {
    check(option, curl_easy_setopt(handle_.get(), option, value));
}

CURLcode CurlEasy::perform() {
    error_buffer_.assign(CURL_ERROR_SIZE, '\0');
    set_pointer(CURLOPT_ERRORBUFFER, error_buffer_.data());
    return curl_easy_perform(handle_.get());
}

long CurlEasy::response_code() const {
    long code = 0;
    curl_easy_getinfo(handle_.get(), CURLINFO_RESPONSE_CODE, &code);
    return code;
}

} // namespace ksx::fetch

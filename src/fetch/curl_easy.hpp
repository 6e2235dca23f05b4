// An owned libcurl easy handle with throwing option setters.
#pragma once

#include "util/unique_handle.hpp"

#include <curl/curl.h>
#include <string>

namespace ksx::fetch {

class CurlEasy {
public:
    // Initialises libcurl once per process, then creates a handle with an error buffer.
    CurlEasy();

    CURL* get() const { return handle_.get(); }
    // The last transfer's error text: libcurl's detailed message, else the code's description.
    std::string error_text(CURLcode code) const;

    void set(CURLoption option, long value);
    void set(CURLoption option, const char* value);
    void set(CURLoption option, const std::string& value) { set(option, value.c_str()); }
    void set_pointer(CURLoption option, void* value);
    template <typename Function> void set_function(CURLoption option, Function* value) {
        check(option, curl_easy_setopt(handle_.get(), option, value));
    }

    // Runs the transfer with the options set so far.
    CURLcode perform();
    long response_code() const;

private:
    void check(CURLoption option, CURLcode code) const;
    UniqueHandle<CURL, curl_easy_cleanup> handle_;
    std::string error_buffer_;
};

} // namespace ksx::fetch

#include "fetch/fetch.hpp"
#include "fetch/retry.hpp"
#include "fetch/transfer_error.hpp"
#include "http_server_fixture.hpp"
#include "util/file_io.hpp"
#include "util/sha256.hpp"

#include <cstdlib>
#include <doctest/doctest.h>
#include <filesystem>
#include <fstream>
#include <string>

namespace fs = std::filesystem;
using ksx::fetch::DownloadOptions;
using ksx::fetch::is_transient;
using ksx::fetch::retry_delay;
using ksx::test::HttpServer;
using ksx::test::payload;
using std::chrono::milliseconds;

namespace {

// Limits small enough for a quick test: a stall is noticed after 1 s, and no attempt starts
// 2 s after the first; retries are many, so that only the deadline can end the download.
DownloadOptions stall_options(const std::string& cache) {
    DownloadOptions options;
    options.cache_dir = fs::absolute(cache);
    options.retry_base_s = 0.01;
    options.retries = 1000;
    options.stall.low_speed_limit = 1000;
    options.stall.low_speed_time_s = 1;
    options.stall.deadline_s = 2;
    return options;
}

// The message of the TransferError that downloading `url` throws, or "(no TransferError)".
std::string transfer_error(const std::string& url, const std::string& sha256,
                           const DownloadOptions& options) {
    try {
        ksx::fetch::download(url, sha256, options);
    } catch (const ksx::fetch::TransferError& e) {
        return e.what();
    }
    return "(no TransferError)";
}

} // namespace

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

TEST_CASE("a server that sends its headers and then nothing fails as stalled at the deadline") {
    HttpServer server("stall");
    const std::string data = payload(100000);
    server.add("f", data);
    const std::string url = server.url("/files/f?stall=1");
    const auto message = transfer_error(url, ksx::sha256_hex(data), stall_options("stall-cache"));
    CHECK(message.starts_with(url + ": download failed after "));
    CHECK(message.ends_with(": the server stalled (less than 1000 bytes/s for 1 s); gave up at "
                            "the 2 s deadline (KSX_DOWNLOAD_DEADLINE)"));
    // The deadline ended it, not the thousand retries.
    CHECK(server.requests().size() >= 1);
    CHECK(server.requests().size() < 1000);
}

TEST_CASE("a server that trickles below the low-speed limit fails as stalled at the deadline") {
    HttpServer server("trickle");
    const std::string data = payload(100000);
    server.add("f", data);
    const std::string url = server.url("/files/f?trickle=50");
    const auto message = transfer_error(url, ksx::sha256_hex(data), stall_options("trickle-cache"));
    CHECK(message.starts_with(url + ": download failed after "));
    CHECK(message.ends_with(": the server stalled (less than 1000 bytes/s for 1 s); gave up at "
                            "the 2 s deadline (KSX_DOWNLOAD_DEADLINE)"));
    // What trickled in is kept for the next run, which resumes after it.
    CHECK(server.requests().size() < 1000);
    const auto partial = fs::path("trickle-cache/downloads") / (ksx::sha256_hex(data) + ".partial");
    CHECK(fs::exists(partial));
    CHECK(fs::file_size(partial) < data.size());
}

TEST_CASE("a partial file whose resumed result fails the digest is fetched again from the start") {
    HttpServer server("corrupt");
    const std::string data = payload(50000);
    const std::string sha = ksx::sha256_hex(data);
    server.add("f", data);
    fs::create_directories("corrupt-cache/downloads");
    std::string damaged = data.substr(0, 1234);
    damaged[100] = static_cast<char>(damaged[100] ^ 0x40);
    std::ofstream("corrupt-cache/downloads/" + sha + ".partial", std::ios::binary) << damaged;
    DownloadOptions options;
    options.cache_dir = fs::absolute("corrupt-cache");
    auto got = ksx::fetch::download(server.url("/files/f"), sha, options);
    CHECK(ksx::read_file(got) == data);
    CHECK(server.requests() == std::vector<std::string>{"/files/f bytes=1234-", "/files/f -"});
    CHECK(fs::directory_iterator("corrupt-cache/downloads")->path().filename() == sha);
}

TEST_CASE("a file the server serves wrong from its first byte still fails the digest") {
    HttpServer server("wrong");
    server.add("f", payload(5000));
    const std::string sha = ksx::sha256_hex(payload(4000));
    DownloadOptions options;
    options.cache_dir = fs::absolute("wrong-cache");
    CHECK_THROWS_WITH(ksx::fetch::download(server.url("/files/f"), sha, options),
                      doctest::Contains("sha256 mismatch"));
    // No resume was involved, so no second download either.
    CHECK(server.requests().size() == 1);
}

TEST_CASE("the stall limits come from the environment, and a bad value is named") {
    ::setenv("KSX_DOWNLOAD_LOW_SPEED", "4096", 1);
    ::setenv("KSX_DOWNLOAD_LOW_SPEED_TIME", "5", 1);
    ::setenv("KSX_DOWNLOAD_DEADLINE", "0", 1);
    auto limits = ksx::fetch::stall_limits_from_environment();
    CHECK(limits.low_speed_limit == 4096);
    CHECK(limits.low_speed_time_s == 5);
    CHECK(limits.deadline_s == 0);
    ::setenv("KSX_DOWNLOAD_DEADLINE", "1m", 1);
    CHECK_THROWS_WITH(
        ksx::fetch::stall_limits_from_environment(),
        "KSX_DOWNLOAD_DEADLINE: \"1m\" is not a whole number (0 turns the limit off)");
    ::unsetenv("KSX_DOWNLOAD_LOW_SPEED");
    ::unsetenv("KSX_DOWNLOAD_LOW_SPEED_TIME");
    ::unsetenv("KSX_DOWNLOAD_DEADLINE");
    limits = ksx::fetch::stall_limits_from_environment();
    CHECK(limits.low_speed_limit == 1024);
    CHECK(limits.low_speed_time_s == 20);
    CHECK(limits.deadline_s == 60);
}

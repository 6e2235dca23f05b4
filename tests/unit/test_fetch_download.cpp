#include "fetch/fetch.hpp"
#include "http_server_fixture.hpp"
#include "util/error.hpp"
#include "util/file_io.hpp"
#include "util/process.hpp"
#include "util/progress.hpp"
#include "util/sha256.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <doctest/doctest.h>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace fs = std::filesystem;
using ksx::fetch::download;
using ksx::fetch::DownloadOptions;

using ksx::test::HttpServer;
using ksx::test::payload;

namespace {

DownloadOptions quick_options(const std::string& cache,
                              ksx::Progress& progress = ksx::Progress::quiet()) {
    DownloadOptions options{.cache_dir = fs::absolute(cache), .progress = progress};
    options.retry_base_s = 0.01;
    return options;
}

std::vector<std::string> cache_listing(const std::string& cache) {
    std::vector<std::string> out;
    if (fs::exists(fs::path(cache) / "downloads")) {
        for (const auto& e : fs::directory_iterator(fs::path(cache) / "downloads")) {
            out.push_back(e.path().filename().string());
        }
    }
    std::sort(out.begin(), out.end());
    return out;
}

std::string error_of(const std::string& url, const std::string& sha256,
                     const DownloadOptions& options) {
    try {
        download(url, sha256, options);
    } catch (const std::exception& e) {
        return e.what();
    }
    return "(no error)";
}

double seconds_since(std::chrono::steady_clock::time_point start) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

} // namespace

TEST_CASE("a download is verified, cached under its sha256 and then served from the cache") {
    HttpServer server("good");
    const std::string data = payload(300000);
    const std::string sha = ksx::sha256_hex(data);
    server.add("a.tar.gz", data);
    auto options = quick_options("good-cache");

    fs::path got = download(server.url("/files/a.tar.gz"), sha, options);
    CHECK(got == fs::absolute("good-cache") / "downloads" / sha);
    CHECK(ksx::read_file(got) == data);
    CHECK(cache_listing("good-cache") == std::vector<std::string>{sha});

    CHECK(download(server.url("/files/a.tar.gz"), sha, options) == got);
    CHECK(server.requests() == std::vector<std::string>{"/files/a.tar.gz -"});
}

TEST_CASE("upper-case sha256 digits name the same cache entry") {
    HttpServer server("upper");
    const std::string data = payload(1000);
    std::string sha = ksx::sha256_hex(data);
    server.add("f", data);
    std::string upper = sha;
    for (auto& c : upper) {
        c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    }
    CHECK(download(server.url("/files/f"), upper, quick_options("upper-cache")).filename() == sha);
}

TEST_CASE("a wrong sha256 is refused with the exact message and nothing is cached") {
    HttpServer server("mismatch");
    const std::string data = payload(5000);
    server.add("f", data);
    const std::string wrong(64, 'a');
    const std::string url = server.url("/files/f");
    CHECK(error_of(url, wrong, quick_options("mismatch-cache")) ==
          url + ": sha256 mismatch: expected " + wrong + ", got " + ksx::sha256_hex(data));
    CHECK(cache_listing("mismatch-cache").empty());
}

TEST_CASE("an HTTP error names the status and is not retried") {
    HttpServer server("missing");
    const std::string url = server.url("/files/nothing-here");
    CHECK(error_of(url, std::string(64, 'b'), quick_options("missing-cache")) ==
          url + ": download failed: HTTP 404");
    CHECK(server.requests().size() == 1);
    CHECK(cache_listing("missing-cache").empty());
}

TEST_CASE("HTTP 500 twice and then the file: the download succeeds after retries") {
    HttpServer server("flaky");
    const std::string data = payload(20000);
    server.add("f", data);
    const std::string path = "/files/f?fail=500&times=2";
    auto got = download(server.url(path), ksx::sha256_hex(data), quick_options("flaky-cache"));
    CHECK(ksx::read_file(got) == data);
    CHECK(server.requests() == std::vector<std::string>{path + " -", path + " -", path + " -"});
}

TEST_CASE("retries stop after the configured number and the error says how many were made") {
    HttpServer server("down");
    server.add("f", "x");
    const std::string url = server.url("/files/f?fail=503&times=10");
    auto options = quick_options("down-cache");
    options.retries = 2;
    CHECK(error_of(url, ksx::sha256_hex("x"), options) ==
          url + ": download failed after 3 attempts: HTTP 503");
    CHECK(server.requests().size() == 3);
}

TEST_CASE("HTTP 429 waits as long as Retry-After asks, up to the cap") {
    HttpServer server("busy");
    const std::string data = payload(1000);
    server.add("f", data);
    auto options = quick_options("busy-cache");

    auto start = std::chrono::steady_clock::now();
    download(server.url("/files/f?fail=429&retry_after=1"), ksx::sha256_hex(data), options);
    double waited = seconds_since(start);
    CHECK(waited >= 1.0);
    CHECK(waited < 3.0);

    fs::remove_all("busy-cache");
    options.retry_after_cap_s = 1;
    start = std::chrono::steady_clock::now();
    download(server.url("/files/f?fail=429&retry_after=3600"), ksx::sha256_hex(data), options);
    waited = seconds_since(start);
    CHECK(waited >= 1.0);
    CHECK(waited < 3.0);
    CHECK(server.requests().size() == 4);
}

TEST_CASE("a body cut short is resumed with a Range request and verified whole") {
    HttpServer server("truncated");
    const std::string data = payload(400000);
    server.add("f", data);
    const std::string path = "/files/f?truncate=100000";
    auto got = download(server.url(path), ksx::sha256_hex(data), quick_options("truncated-cache"));
    CHECK(ksx::read_file(got) == data);
    CHECK(server.requests() == std::vector<std::string>{path + " -", path + " bytes=100000-"});
}

TEST_CASE("a partial file left by an earlier run is re-hashed and resumed") {
    HttpServer server("resume");
    const std::string data = payload(50000);
    const std::string sha = ksx::sha256_hex(data);
    server.add("f", data);
    fs::create_directories("resume-cache/downloads");
    std::ofstream("resume-cache/downloads/" + sha + ".partial", std::ios::binary)
        << data.substr(0, 1234);
    auto got = download(server.url("/files/f"), sha, quick_options("resume-cache"));
    CHECK(ksx::read_file(got) == data);
    CHECK(server.requests() == std::vector<std::string>{"/files/f bytes=1234-"});
    CHECK(cache_listing("resume-cache") == std::vector<std::string>{sha});
}

TEST_CASE("a complete partial file is used without any request") {
    HttpServer server("complete");
    const std::string data = payload(5000);
    const std::string sha = ksx::sha256_hex(data);
    fs::create_directories("complete-cache/downloads");
    std::ofstream("complete-cache/downloads/" + sha + ".partial", std::ios::binary) << data;
    CHECK(ksx::read_file(download(server.url("/files/f"), sha, quick_options("complete-cache"))) ==
          data);
    CHECK(server.requests().empty());
}

TEST_CASE("a partial file longer than the file starts over") {
    HttpServer server("longer");
    const std::string data = payload(5000);
    const std::string sha = ksx::sha256_hex(data);
    server.add("f", data);
    fs::create_directories("longer-cache/downloads");
    std::ofstream("longer-cache/downloads/" + sha + ".partial", std::ios::binary) << payload(6000);
    CHECK(ksx::read_file(download(server.url("/files/f"), sha, quick_options("longer-cache"))) ==
          data);
    CHECK(server.requests() == std::vector<std::string>{"/files/f bytes=6000-", "/files/f -"});
}

TEST_CASE("a server that ignores Range sends the whole file, which replaces the partial one") {
    HttpServer server("norange");
    const std::string data = payload(5000);
    const std::string sha = ksx::sha256_hex(data);
    server.add("f", data);
    fs::create_directories("norange-cache/downloads");
    std::ofstream("norange-cache/downloads/" + sha + ".partial", std::ios::binary)
        << data.substr(0, 99);
    const std::string path = "/files/f?norange=1";
    CHECK(ksx::read_file(download(server.url(path), sha, quick_options("norange-cache"))) == data);
    CHECK(server.requests() == std::vector<std::string>{path + " bytes=99-"});
}

TEST_CASE("a damaged cache entry is downloaded again") {
    HttpServer server("damaged");
    const std::string data = payload(5000);
    const std::string sha = ksx::sha256_hex(data);
    server.add("f", data);
    fs::create_directories("damaged-cache/downloads");
    std::ofstream("damaged-cache/downloads/" + sha, std::ios::binary) << "bit rot";
    CHECK(ksx::read_file(download(server.url("/files/f"), sha, quick_options("damaged-cache"))) ==
          data);
    CHECK(server.requests().size() == 1);
}

TEST_CASE("a redirect to another path is followed") {
    HttpServer server("redirect");
    const std::string data = payload(3000);
    server.add("real", data);
    auto got = download(server.url("/redirect?to=/files/real"), ksx::sha256_hex(data),
                        quick_options("redirect-cache"));
    CHECK(ksx::read_file(got) == data);
    CHECK(server.requests() ==
          std::vector<std::string>{"/redirect?to=/files/real -", "/files/real -"});
}

TEST_CASE("a redirect to ftp is refused") {
    HttpServer server("ftp");
    const std::string url = server.url("/redirect?to=ftp://127.0.0.1/file");
    CHECK(error_of(url, std::string(64, 'c'), quick_options("ftp-cache")) ==
          url +
              ": download failed: refused a redirect to ftp://127.0.0.1/file (only http and https "
              "are allowed)");
    CHECK(server.requests().size() == 1);
}

TEST_CASE("only http and https URLs are accepted, and a sha256 must be 64 hex digits") {
    auto options = quick_options("case15-cache");
    CHECK_THROWS_WITH_AS(download("file:///etc/passwd", std::string(64, 'd'), options),
                         "file:///etc/passwd: only http:// and https:// URLs can be downloaded",
                         ksx::InputError);
    CHECK_THROWS_WITH_AS(download("https://example.org/x", "abc", options),
                         "https://example.org/x: sha256 must be 64 hexadecimal digits, not \"abc\"",
                         ksx::InputError);
}

TEST_CASE("a refused connection is retried and then reported") {
    // A port that was just free: nothing listens there.
    const std::string url = "http://127.0.0.1:" + ksx::test::free_port() + "/files/f";
    auto options = quick_options("case16-cache");
    options.retries = 1;
    std::string message = error_of(url, std::string(64, 'e'), options);
    CHECK(message.starts_with(url + ": download failed after 2 attempts: "));
    CHECK(message.find("onnect") != std::string::npos);
}

TEST_CASE("progress shows one line at the start and one at the end when not on a terminal") {
    HttpServer server("plain");
    const std::string data = payload(2048);
    server.add("f", data);
    std::FILE* out = std::fopen("progress.txt", "w+");
    REQUIRE(out != nullptr);
    {
        ksx::Progress progress(ksx::Progress::Mode::Plain, out);
        auto options = quick_options("plain-cache", progress);
        download(server.url("/files/f"), ksx::sha256_hex(data), options);
    }
    std::fclose(out);
    const std::string url = server.url("/files/f");
    std::istringstream lines(ksx::read_file("progress.txt"));
    std::string first;
    std::string second;
    std::string rest;
    std::getline(lines, first);
    std::getline(lines, second);
    std::getline(lines, rest);
    CHECK(first == "downloading " + url);
    CHECK(second.starts_with("downloaded " + url + ": 2.0 KiB in "));
    CHECK(second.ends_with(" s"));
    CHECK(rest.empty());
}

TEST_CASE("progress on a terminal shows the bytes received so far") {
    HttpServer server("terminal");
    const std::string data = payload(100000);
    server.add("pkg.deb", data);
    std::FILE* out = std::fopen("progress.txt", "w+");
    REQUIRE(out != nullptr);
    {
        ksx::Progress progress(ksx::Progress::Mode::Terminal, out);
        auto options = quick_options("terminal-cache", progress);
        download(server.url("/files/pkg.deb"), ksx::sha256_hex(data), options);
    }
    std::fclose(out);
    const std::string text = ksx::read_file("progress.txt");
    CHECK(text.find("\r\033[Kdownloading pkg.deb: ") != std::string::npos);
    CHECK(text.find("\r\033[Kdownloaded " + server.url("/files/pkg.deb") + ": 97.7 KiB in ") !=
          std::string::npos);
}

TEST_CASE("a truncated download with no retries left keeps its partial file for the next run") {
    HttpServer server("cut");
    const std::string data = payload(200000);
    const std::string sha = ksx::sha256_hex(data);
    server.add("f", data);
    const std::string url = server.url("/files/f?truncate=70000");
    auto options = quick_options("cut-cache");
    options.retries = 0;
    CHECK(error_of(url, sha, options)
              .starts_with(url + ": download failed: transfer closed with 130000 bytes remaining"));
    CHECK(cache_listing("cut-cache") == std::vector<std::string>{sha + ".partial"});
    CHECK(fs::file_size("cut-cache/downloads/" + sha + ".partial") == 70000);

    CHECK(ksx::read_file(download(url, sha, options)) == data);
    CHECK(cache_listing("cut-cache") == std::vector<std::string>{sha});
    CHECK(server.requests() == std::vector<std::string>{"/files/f?truncate=70000 -",
                                                        "/files/f?truncate=70000 bytes=70000-"});
}

TEST_CASE("two downloads of the same file at once take turns and agree") {
    HttpServer server("together");
    const std::string data = payload(3 << 20);
    const std::string sha = ksx::sha256_hex(data);
    server.add("big", data);
    auto options = quick_options("together-cache");
    fs::path first;
    fs::path second;
    std::thread other([&] { second = download(server.url("/files/big"), sha, options); });
    first = download(server.url("/files/big"), sha, options);
    other.join();
    CHECK(first == second);
    CHECK(ksx::sha256_file_hex(first) == sha);
    CHECK(server.requests().size() == 1);
    CHECK(cache_listing("together-cache") == std::vector<std::string>{sha});
}

TEST_CASE("https works with a trusted certificate and an untrusted one is refused") {
    HttpServer server("tls", true);
    const std::string data = payload(10000);
    const std::string sha = ksx::sha256_hex(data);
    server.add("f", data);
    const std::string url = server.url("/files/f");
    REQUIRE(url.starts_with("https://"));

    auto options = quick_options("tls-cache");
    CHECK(error_of(url, sha, options) ==
          url + ": download failed: SSL certificate problem: self-signed certificate");
    CHECK(cache_listing("tls-cache").empty());

    options.ca_file = fs::absolute("tls-cert.pem");
    CHECK(ksx::read_file(download(url, sha, options)) == data);
    CHECK(server.requests() == std::vector<std::string>{"/files/f -"});
}

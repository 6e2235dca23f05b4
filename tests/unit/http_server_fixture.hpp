// tests/data/http_test_server.py started for a test, and the payloads the download tests serve.
#pragma once

#include "server_fixture.hpp"
#include "util/file_io.hpp"
#include "util/process.hpp"

#include <chrono>
#include <cstdint>
#include <doctest/doctest.h>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace ksx::test {

namespace fs = std::filesystem;

// tests/data/http_test_server.py on 127.0.0.1 and a port of its own, serving files from a
// directory of this test; stopped when the object goes away.
class HttpServer {
public:
    // With `tls`, the server speaks HTTPS with a self-signed certificate for 127.0.0.1, written
    // to "<name>-cert.pem".
    explicit HttpServer(const std::string& name, bool tls = false)
        : root_(fs::absolute(name + "-files")), log_(fs::absolute(name + "-requests.log")),
          scheme_(tls ? "https" : "http") {
        fs::create_directories(root_);
        const fs::path port_file = fs::absolute(name + "-port");
        const std::string script = KSX_SOURCE_DIR "/tests/data/http_test_server.py";
        std::vector<std::string> args = {"python3", script, root_.string(), log_.string()};
        if (tls) {
            const std::string cert = fs::absolute(name + "-cert.pem");
            const std::string key = fs::absolute(name + "-key.pem");
            ksx::ProcessOptions quiet;
            quiet.log_file = fs::absolute(name + "-openssl.log");
            REQUIRE(ksx::run_process({"openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes",
                                      "-days", "1", "-subj", "/CN=127.0.0.1", "-addext",
                                      "subjectAltName=IP:127.0.0.1", "-keyout", key, "-out", cert},
                                     quiet)
                        .exit_status == 0);
            args.push_back(cert);
            args.push_back(key);
        }
        process_ = std::make_unique<ksx::test::Spawned>(args, port_file, false);
        for (int i = 0; i < 200 && port_.empty(); ++i) {
            std::this_thread::sleep_for(std::chrono::milliseconds(25));
            std::string text = ksx::read_file(port_file);
            if (text.ends_with('\n')) {
                port_ = text.substr(0, text.size() - 1);
            }
        }
        REQUIRE_MESSAGE(!port_.empty(), "the test HTTP server did not start");
    }
    HttpServer(const HttpServer&) = delete;
    HttpServer& operator=(const HttpServer&) = delete;

    std::string url(const std::string& path) const {
        return scheme_ + "://127.0.0.1:" + port_ + path;
    }
    void add(const std::string& name, const std::string& data) const {
        std::ofstream(root_ / name, std::ios::binary) << data;
    }
    // Each request so far: "<path?query> <Range header or ->".
    std::vector<std::string> requests() const {
        std::vector<std::string> out;
        if (!fs::exists(log_)) {
            return out;
        }
        std::istringstream in(ksx::read_file(log_));
        for (std::string line; std::getline(in, line);) {
            out.push_back(line);
        }
        return out;
    }

private:
    fs::path root_;
    fs::path log_;
    std::string scheme_;
    std::string port_;
    std::unique_ptr<ksx::test::Spawned> process_;
};

// Deterministic bytes that do not repeat in short cycles.
inline std::string payload(size_t size) {
    std::string out(size, '\0');
    std::uint32_t state = 12345;
    for (auto& c : out) {
        state = state * 1664525U + 1013904223U;
        c = static_cast<char>(state >> 24);
    }
    return out;
}

} // namespace ksx::test

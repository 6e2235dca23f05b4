// Keys and reference tools for the signing tests: a key pair made by keygen (once per test
// process), the kernel's sign-file from Debian's linux-kbuild-6.1 package, and a runner for
// veritysetup and openssl whose output goes to tools.log in the working directory.
#pragma once

#include "sign/keys.hpp"
#include "util/file_io.hpp"
#include "util/process.hpp"

#include <doctest/doctest.h>
#include <filesystem>
#include <fstream>
#include <optional>
#include <random>
#include <string>
#include <vector>

namespace ksx::test {

namespace fs = std::filesystem;

// Runs a tool and REQUIREs success; returns its stdout.
inline std::string run_sign_tool(const std::vector<std::string>& argv) {
    ProcessOptions options;
    options.log_file = fs::absolute("tools.log");
    auto result = run_capture(argv, options);
    INFO(quote_command(argv) << " (see tools.log)");
    REQUIRE(result.exit_status == 0);
    return result.output;
}

inline std::string random_data(std::size_t size, unsigned seed) {
    std::mt19937 engine(seed);
    std::string data(size, '\0');
    for (auto& c : data) {
        c = static_cast<char>(engine() & 0xFF);
    }
    return data;
}

inline void write_data(const fs::path& path, const std::string& data) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << data;
    REQUIRE(out.good());
}

// A key pair from generate_keys, made once per process in a directory that outlives the
// tests' working directories.
inline const sign::KeygenResult& keygen_pair(sign::KeyAlgorithm algorithm) {
    static std::optional<sign::KeygenResult> rsa;
    static std::optional<sign::KeygenResult> ecdsa;
    auto& slot = algorithm == sign::KeyAlgorithm::Rsa4096 ? rsa : ecdsa;
    if (!slot) {
        sign::KeygenOptions options;
        options.out_dir =
            fs::absolute(algorithm == sign::KeyAlgorithm::Rsa4096 ? "keys-rsa" : "keys-ecdsa");
        options.common_name = "kmod-sysext test";
        options.name = "test";
        options.algorithm = algorithm;
        slot = sign::generate_keys(options);
    }
    return *slot;
}

// The kernel's scripts/sign-file from linux-kbuild-6.1, fetched once with `apt-get download`
// into the kmod-sysext cache; nothing when it cannot be had.
inline std::optional<fs::path> kernel_sign_file() {
    static std::optional<fs::path> found;
    static bool looked = false;
    if (looked) {
        return found;
    }
    looked = true;
    const auto cache = cache_dir();
    fs::create_directories(cache);
    auto find_deb = [&]() -> std::optional<fs::path> {
        for (const auto& entry : fs::directory_iterator(cache)) {
            auto name = entry.path().filename().string();
            if (name.starts_with("linux-kbuild-6.1_") && name.ends_with(".deb")) {
                return entry.path();
            }
        }
        return std::nullopt;
    };
    auto deb = find_deb();
    if (!deb) {
        // apt-get download writes into the working directory.
        auto here = fs::current_path();
        fs::current_path(cache);
        ProcessOptions quiet;
        quiet.log_file = here / "tools.log";
        run_process({"apt-get", "download", "linux-kbuild-6.1"}, quiet);
        fs::current_path(here);
        deb = find_deb();
    }
    if (!deb) {
        return std::nullopt;
    }
    auto root = fs::absolute("sign-kbuild");
    fs::create_directories(root);
    ProcessOptions quiet;
    quiet.log_file = fs::absolute("tools.log");
    if (run_process({"dpkg-deb", "-x", deb->string(), root.string()}, quiet).exit_status != 0) {
        return std::nullopt;
    }
    auto tool = root / "usr/lib/linux-kbuild-6.1/scripts/sign-file";
    if (fs::exists(tool)) {
        found = tool;
    }
    return found;
}

} // namespace ksx::test

// Keys and reference tools for the signing tests: a key pair made by keygen (once per test
// process), the kernel's sign-file from Debian's linux-kbuild-6.1 package (required), and a runner
// for veritysetup and openssl whose output goes to tools.log in the working directory.
#pragma once

#include "sign/keys.hpp"
#include "util/file_io.hpp"
#include "util/process.hpp"
#include "util/temp_dir.hpp"

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

// The kernel's scripts/sign-file from linux-kbuild-6.1. The package is fetched once with
// `apt-get download` (which checks it against the archive's signed index) into the kmod-sysext
// cache, so later runs need no network; failing to get it fails the calling test.
inline fs::path kernel_sign_file() {
    static std::optional<fs::path> found;
    if (found) {
        return *found;
    }
    const auto cache = cache_dir();
    fs::create_directories(cache);
    auto find_deb = [](const fs::path& dir) -> std::optional<fs::path> {
        for (const auto& entry : fs::directory_iterator(dir)) {
            auto name = entry.path().filename().string();
            if (name.starts_with("linux-kbuild-6.1_") && name.ends_with(".deb")) {
                return entry.path();
            }
        }
        return std::nullopt;
    };
    auto deb = find_deb(cache);
    if (!deb) {
        // Downloaded into a directory of its own, then renamed: a concurrent run never sees a
        // partial file under the final name.
        TempDir download("linux-kbuild-", cache);
        std::vector<std::string> argv{"env",     "-C",       download.path().string(),
                                      "apt-get", "download", "linux-kbuild-6.1"};
        ProcessOptions options;
        options.log_file = fs::absolute("tools.log");
        int status = run_process(argv, options).exit_status;
        INFO(quote_command(argv) << " (see tools.log): the comparison with the kernel's "
                                    "sign-file needs Debian's archive once");
        REQUIRE(status == 0);
        auto fetched = find_deb(download.path());
        REQUIRE(fetched);
        deb = cache / fetched->filename();
        fs::rename(*fetched, *deb);
    }
    auto root = fs::absolute("sign-kbuild");
    fs::create_directories(root);
    std::vector<std::string> argv{"dpkg-deb", "-x", deb->string(), root.string()};
    ProcessOptions options;
    options.log_file = fs::absolute("tools.log");
    INFO(quote_command(argv) << " (see tools.log)");
    REQUIRE(run_process(argv, options).exit_status == 0);
    auto tool = root / "usr/lib/linux-kbuild-6.1/scripts/sign-file";
    INFO(tool.string());
    REQUIRE(fs::is_regular_file(tool));
    found = tool;
    return tool;
}

} // namespace ksx::test

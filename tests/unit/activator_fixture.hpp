// Signed images for the activator's tests, made with the reference tools: `veritysetup format`
// for the hash tree and root hash, `openssl req -x509` for keys, `openssl smime` for the
// signature (the same flags systemd's tooling and kmod-sysext use).
#pragma once

#include "sign/verity.hpp"
#include "sign_fixture.hpp"
#include "util/file_io.hpp"
#include "util/process.hpp"
#include "util/sha256.hpp"

#include <algorithm>
#include <doctest/doctest.h>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

namespace ksx::test {

namespace fs = std::filesystem;

// Runs a tool; output goes to tools.log in the working directory; REQUIREs success.
inline std::string run_tool(const std::vector<std::string>& argv) {
    return run_sign_tool(argv);
}

struct TestKey {
    fs::path key;
    fs::path cert;
};

// An RSA key and a self-signed certificate with subject CN=`cn`, in dir/<cn>.key|.crt.
inline TestKey make_key(const fs::path& dir, const std::string& cn) {
    fs::create_directories(dir);
    TestKey key{dir / (cn + ".key"), dir / (cn + ".crt")};
    run_tool({"openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout",
              key.key.string(), "-out", key.cert.string(), "-days", "3650", "-subj", "/CN=" + cn});
    return key;
}

// `size` bytes of pseudo-random data from `seed`.
inline void write_random(const fs::path& path, std::size_t size, unsigned seed) {
    std::mt19937 random(seed);
    std::string data(size, '\0');
    for (auto& byte : data) {
        byte = static_cast<char>(random() & 0xff);
    }
    fs::create_directories(path.parent_path());
    std::ofstream(path, std::ios::binary) << data;
}

// Writes <stem>.verity and <stem>.roothash (hex + newline) for image "<stem>.raw" with
// veritysetup, salted as kmod-sysext does (the image's SHA-256, the UUID derived from it by
// ksx::sign); returns the root hash.
inline std::string add_verity(const fs::path& image) {
    auto stem = image.string().substr(0, image.string().size() - 4);
    auto salt = sha256_file_hex(image);
    auto uuid = sign::format_uuid(sign::uuid_from_salt(sign::salt_from_hex(salt)));
    auto out = run_tool({"veritysetup", "format", "--salt=" + salt, "--uuid=" + uuid,
                         image.string(), stem + ".verity"});
    auto at = out.find("Root hash:");
    REQUIRE(at != std::string::npos);
    auto hash = out.substr(out.find_first_not_of(" \t", at + 10), 64);
    std::ofstream(stem + ".roothash") << hash << "\n";
    return hash;
}

// Writes <stem>.roothash.p7s: `key`'s signature over the root hash without its newline.
inline void sign_root_hash(const fs::path& image, const TestKey& key) {
    auto stem = image.string().substr(0, image.string().size() - 4);
    auto hash = read_file(stem + ".roothash");
    std::ofstream(stem + ".roothash.text") << hash.substr(0, 64);
    run_tool({"openssl", "smime", "-sign", "-nocerts", "-noattr", "-binary", "-in",
              stem + ".roothash.text", "-inkey", key.key.string(), "-signer", key.cert.string(),
              "-outform", "der", "-out", stem + ".roothash.p7s"});
    fs::remove(stem + ".roothash.text");
}

// A random image of `size` bytes with verity data, signed by `key`.
inline std::string make_signed_image(const fs::path& image, std::size_t size, unsigned seed,
                                     const TestKey& key) {
    write_random(image, size, seed);
    auto hash = add_verity(image);
    sign_root_hash(image, key);
    return hash;
}

// A modules.load body (no header) with a dependency chain of `count` modules: m0 needs m1, m1
// needs m2, ... Listed top first, so every walk goes the whole depth. Each is `mode` ("boot" or
// "demand"), its file /usr/lib/m/m<i>.ko.
inline std::string chain_load_order(std::size_t count, const std::string& mode) {
    std::string text;
    for (std::size_t i = 0; i < count; ++i) {
        auto name = "m" + std::to_string(i);
        auto dep = i + 1 < count ? "m" + std::to_string(i + 1) : std::string("-");
        text += name + "\t/usr/lib/m/" + name + ".ko\t" + dep + "\t" + mode + "\t\n";
    }
    return text;
}

// A fresh directory next to the test's node trees, for what must stay outside --root.
inline fs::path outside_root(const std::string& name) {
    auto dir = fs::absolute(name);
    fs::remove_all(dir);
    fs::create_directories(dir);
    return dir;
}

// Every file, directory and link below `dir` (relative names, sorted): to prove nothing was
// written there.
inline std::vector<std::string> tree_entries(const fs::path& dir) {
    std::vector<std::string> entries;
    for (const auto& entry : fs::recursive_directory_iterator(dir)) {
        entries.push_back(fs::relative(entry.path(), dir).string());
    }
    std::sort(entries.begin(), entries.end());
    return entries;
}

} // namespace ksx::test

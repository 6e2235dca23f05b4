// The activator's tests' node: a fake root with its store, the context the verbs run with and
// the log kept in memory; and signed images, made with the reference tools: `veritysetup
// format` for the hash tree and root hash, `openssl req -x509` for keys, `openssl smime` for the
// signature (the same flags systemd's tooling and kmod-sysext use).
#pragma once

#include "activator/context.hpp"
#include "activator/log.hpp"
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

// The kernel a node runs unless a test names another.
inline constexpr const char* kNodeKernel = "6.1.0-28-amd64";

// A node tree under a fresh directory `name` of the test's working directory, its store made;
// the activator's context for it; every line the verbs log, kept. A test's own node adds what
// its verb reads (modules, keys, a policy) in a struct derived from this one.
struct ActivatorNode {
    fs::path root;
    activator::Context context;
    std::vector<std::string> lines;
    activator::Log log{sink()};

    explicit ActivatorNode(const std::string& name, const std::string& kernel = kNodeKernel)
        : root(fs::absolute(name)) {
        fs::remove_all(root);
        fs::create_directories(store());
        context.root = root;
        context.kernel = kernel;
    }
    // The log's sink points at this node.
    ActivatorNode(const ActivatorNode&) = delete;
    ActivatorNode& operator=(const ActivatorNode&) = delete;

    fs::path store() const { return root / "var/lib/kmod-sysext"; }
    // `content` at `path` (relative to the root), its directories made.
    void write(const std::string& path, const std::string& content) const {
        fs::create_directories((root / path).parent_path());
        std::ofstream(root / path) << content;
    }
    // A placeholder image file in the store, under `extension`.
    void image(const std::string& extension, const std::string& file) const {
        write("var/lib/kmod-sysext/" + extension + "/" + file, "image");
    }
    // Where /run/extensions/`name` points, or "" when it is not a link.
    std::string link(const std::string& name) const {
        std::error_code ec;
        auto target = fs::read_symlink(root / "run/extensions" / name, ec);
        return ec ? "" : target.string();
    }
    // A fresh log for the next run, as each boot runs a fresh process.
    activator::Log& fresh_log() {
        lines.clear();
        log = activator::Log(sink());
        return log;
    }
    // Whether the activator logged exactly "kmod-sysext-activate: `text`".
    bool logged(const std::string& text) const {
        return std::find(lines.begin(), lines.end(), "kmod-sysext-activate: " + text + "\n") !=
               lines.end();
    }
    std::string all_lines() const {
        std::string out;
        for (const auto& line : lines) {
            out += line;
        }
        return out;
    }

private:
    activator::Log::Sink sink() {
        return [this](const std::string& line) { lines.push_back(line); };
    }
};

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

#include "activator/image_check.hpp"
#include "activator/select.hpp"
#include "activator/signature.hpp"
#include "activator/status.hpp"
#include "activator/trust_policy.hpp"
#include "activator_fixture.hpp"
#include "sign/verity.hpp"
#include "trust/verity_tree.hpp"
#include "util/file_io.hpp"
#include "util/sha256.hpp"

#include <algorithm>
#include <doctest/doctest.h>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <string>
#include <vector>

using namespace ksx;
using namespace ksx::activator;
using ksx::trust::check_verity_tree;
using ksx::trust::kRootHashMismatch;
namespace fs = std::filesystem;

namespace {

constexpr const char* kKernel = "6.1.0-28-amd64";
constexpr const char* kNoSignature = "signature does not verify against any certificate in "
                                     "/etc/verity.d, /etc/kmod-sysext/keys";

// A node whose store holds hello images; select runs with a log kept in memory.
struct SignedNode : test::ActivatorNode {
    explicit SignedNode(const std::string& name) : ActivatorNode(name, kKernel) {
        fs::create_directories(store() / "hello");
    }
    fs::path image(const std::string& version = "1.0.0") const {
        return store() / "hello" / ("hello_" + version + "_" + std::string(kKernel) + ".raw");
    }
    fs::path sidecar(const std::string& suffix, const std::string& version = "1.0.0") const {
        auto path = image(version).string();
        return path.substr(0, path.size() - 4) + suffix;
    }
    // Installs `key`'s certificate (never the key) where the node looks for them.
    void trust(const test::TestKey& key, const std::string& dir = "etc/verity.d",
               const std::string& suffix = ".crt") const {
        fs::create_directories(root / dir);
        fs::copy_file(key.cert, root / dir / (key.cert.stem().string() + suffix),
                      fs::copy_options::overwrite_existing);
    }
    void policy(const std::string& text) const { write("etc/kmod-sysext/policy.conf", text); }
    int select() { return select_images(context, fresh_log()); }
    // The one "refused <image>: <reason>" line's reason, or "" when nothing was refused.
    std::string refusal() const {
        std::string prefix = "kmod-sysext-activate: refused /var/lib/kmod-sysext/hello/hello_";
        for (const auto& line : lines) {
            if (line.starts_with(prefix)) {
                auto reason = line.substr(line.find(".raw: ") + 6);
                return reason.substr(0, reason.size() - 1);
            }
        }
        return "";
    }
    ImageCheck check() {
        return check_image(context, read_trust_policy(context, log),
                           "/" / image().lexically_relative(root));
    }
};

// Keys are slow to make: one signer and one stranger for the whole file.
const test::TestKey& signer() {
    static const test::TestKey key = test::make_key(fs::absolute("verify-keys"), "ksx-signer");
    return key;
}
const test::TestKey& stranger() {
    static const test::TestKey key = test::make_key(fs::absolute("verify-keys"), "stranger");
    return key;
}

} // namespace

TEST_CASE("a signed image whose certificate is installed is verified, linked and reported") {
    SignedNode node("good");
    auto hash = test::make_signed_image(node.image(), 40 * 4096, 1, signer());
    node.trust(signer());
    CHECK(node.select() == 0);
    CHECK(node.link("hello.raw") == "/var/lib/kmod-sysext/hello/hello_1.0.0_6.1.0-28-amd64.raw");
    CHECK(node.link("hello.roothash.p7s") ==
          "/var/lib/kmod-sysext/hello/hello_1.0.0_6.1.0-28-amd64.roothash.p7s");
    CHECK(node.logged("verified hello_1.0.0_6.1.0-28-amd64.raw: signed by ksx-signer, root hash " +
                      hash));
    auto status = gather_status(node.context, node.log);
    auto text = format_status_text(status);
    CHECK(text.find("  verified: yes, signed by ksx-signer\n  root hash: " + hash + "\n") !=
          std::string::npos);
    CHECK(format_status_json(status).find(
              "\"verification\":{\"image\":"
              "\"/var/lib/kmod-sysext/hello/hello_1.0.0_6.1.0-28-amd64.raw\","
              "\"state\":\"verified\",\"verified\":true,\"root_hash\":\"" +
              hash + "\",\"signer\":\"ksx-signer\",\"reason\":null}") != std::string::npos);
}

TEST_CASE("certificates in /etc/kmod-sysext/keys count, PEM or DER, .crt or .pem") {
    SignedNode node("keysdir");
    test::make_signed_image(node.image(), 4096, 2, signer());
    SUBCASE("PEM named .pem") {
        node.trust(signer(), "etc/kmod-sysext/keys", ".pem");
    }
    SUBCASE("DER named .crt") {
        fs::create_directories(node.root / "etc/kmod-sysext/keys");
        test::run_tool({"openssl", "x509", "-in", signer().cert.string(), "-outform", "DER", "-out",
                        (node.root / "etc/kmod-sysext/keys/signer.crt").string()});
    }
    auto check = node.check();
    CHECK(check.trust == ImageTrust::verified);
    CHECK(check.signer == "ksx-signer");
    // systemd would look for the certificate in /etc/verity.d only and refuse the image.
    CHECK(node.select() == 0);
    CHECK(node.link("hello.raw") != "");
    CHECK(node.link("hello.roothash") != "");
    CHECK(node.link("hello.roothash.p7s") == "");
    CHECK(node.logged("not linking "
                      "/var/lib/kmod-sysext/hello/hello_1.0.0_6.1.0-28-amd64.roothash.p7s: "
                      "systemd-sysext would check it against /etc/verity.d and the kernel "
                      "keyring only"));
}

TEST_CASE("with signatures optional and no certificate a signed image is linked unverified") {
    SignedNode node("nocert");
    auto hash = test::make_signed_image(node.image(), 4096, 20, signer());
    CHECK(node.select() == 0);
    CHECK(node.link("hello.raw") != "");
    CHECK(node.link("hello.verity") != "");
    CHECK(node.link("hello.roothash.p7s") == "");
    CHECK(node.logged("not verified hello_1.0.0_6.1.0-28-amd64.raw: signature not checked: no "
                      "certificate in /etc/verity.d, /etc/kmod-sysext/keys (signatures "
                      "optional)"));
    auto check = node.check();
    CHECK(check.root_hash == hash);
    // The tree is still checked.
    std::fstream(node.image(), std::ios::binary | std::ios::in | std::ios::out).put('!');
    CHECK(node.select() == 0);
    CHECK(node.link("hello.raw") == "");
    CHECK(node.refusal() == kRootHashMismatch);
}

TEST_CASE("a root hash file with or without its trailing newline is accepted") {
    SignedNode node("newline");
    auto hash = test::make_signed_image(node.image(), 4096, 3, signer());
    node.trust(signer());
    CHECK(node.check().trust == ImageTrust::verified);
    std::ofstream(node.sidecar(".roothash")) << hash;
    auto check = node.check();
    CHECK(check.trust == ImageTrust::verified);
    CHECK(check.root_hash == hash);
}

TEST_CASE("a hash tree written by the signing library is accepted by the activator") {
    SignedNode node("signlib");
    test::write_random(node.image(), 300 * 4096, 4);
    sign::VerityParams params;
    params.salt = sign::salt_from_hex(sha256_file_hex(node.image()));
    params.uuid = sign::uuid_from_salt(params.salt);
    auto hash = sign::write_verity(node.image(), node.sidecar(".verity"), params);
    auto tree = check_verity_tree(node.image(), node.sidecar(".verity"));
    CHECK(tree.problem == "");
    CHECK(tree.root_hash == hash);
}

TEST_CASE("a hash tree whose UUID is not derived from its salt is refused") {
    SignedNode node("uuid");
    test::write_random(node.image(), 4096, 5);
    test::run_tool({"veritysetup", "format", "--salt=" + sha256_file_hex(node.image()),
                    "--uuid=12345678-1234-4234-8234-123456789abc", node.image().string(),
                    node.sidecar(".verity")});
    auto tree = check_verity_tree(node.image(), node.sidecar(".verity"));
    CHECK(tree.problem ==
          "bad .verity superblock: UUID is not the one kmod-sysext derives from the salt");
}

TEST_CASE("tamper: byte flips at 200 random offsets in the image and its sidecars are all "
          "refused") {
    SignedNode node("tamper");
    // 200 data blocks: two hash levels below the root.
    test::make_signed_image(node.image(), 200 * 4096, 6, signer());
    node.trust(signer());
    REQUIRE(node.select() == 0);
    REQUIRE(node.link("hello.raw") != "");
    // Each file and the beginnings of the reasons a flip in it may give.
    const std::map<std::string, std::vector<std::string>> reasons{
        {".raw", {kRootHashMismatch}},
        {".verity", {kRootHashMismatch, "bad .verity superblock: "}},
        {".roothash", {"malformed .roothash: not 64 lower-case hex digits", kNoSignature}},
        {".roothash.p7s", {kNoSignature}},
    };
    auto expected = [&](const std::string& suffix, const std::string& reason) {
        const auto& starts = reasons.at(suffix);
        return std::any_of(starts.begin(), starts.end(), [&](const std::string& start) {
            return reason.starts_with(start) && (start.ends_with(": ") || reason == start);
        });
    };
    std::mt19937 random(20261123);
    std::map<std::string, int> flipped;
    std::map<std::string, int> refused;
    int total_refused = 0;
    for (int i = 0; i < 200; ++i) {
        auto suffix = std::next(reasons.begin(), i % 4)->first;
        auto path = node.sidecar(suffix);
        auto bytes = read_file(path);
        auto offset = random() % bytes.size();
        auto mask = static_cast<char>(1 + random() % 255);
        auto original = bytes;
        bytes[offset] = static_cast<char>(bytes[offset] ^ mask);
        std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
        CAPTURE(suffix);
        CAPTURE(offset);
        ++flipped[suffix];
        CHECK(node.select() == 0);
        auto reason = node.refusal();
        CAPTURE(node.all_lines());
        bool ok = node.link("hello.raw").empty() && expected(suffix, reason);
        CHECK(ok);
        if (ok) {
            ++refused[suffix];
            ++total_refused;
        }
        std::ofstream(path, std::ios::binary | std::ios::trunc) << original;
    }
    MESSAGE("tamper: " << total_refused << " of 200 byte flips refused (image " << refused[".raw"]
                       << "/" << flipped[".raw"] << ", .verity " << refused[".verity"] << "/"
                       << flipped[".verity"] << ", .roothash " << refused[".roothash"] << "/"
                       << flipped[".roothash"] << ", .roothash.p7s " << refused[".roothash.p7s"]
                       << "/" << flipped[".roothash.p7s"] << ")");
    CHECK(total_refused == 200);
    // Restored, the image is linked again.
    CHECK(node.select() == 0);
    CHECK(node.link("hello.raw") != "");
}

TEST_CASE("tamper: every bit flip and inverted byte of the signature and the root hash is "
          "refused") {
    SignedNode node("exhaustive");
    auto hash = test::make_signed_image(node.image(), 4096, 18, signer());
    auto trusted = read_certificates(signer().cert);
    auto p7s = read_file(node.sidecar(".roothash.p7s"));
    REQUIRE(verify_signature(p7s, hash, trusted) != nullptr);
    const unsigned char masks[] = {1, 2, 4, 8, 16, 32, 64, 128, 255};
    int changes = 0;
    int accepted = 0;
    for (std::size_t at = 0; at < p7s.size(); ++at) {
        for (unsigned char mask : masks) {
            auto changed = p7s;
            changed[at] = static_cast<char>(changed[at] ^ mask);
            ++changes;
            if (verify_signature(changed, hash, trusted) != nullptr) {
                ++accepted;
                MESSAGE("accepted: .roothash.p7s byte " << at << " ^ " << int(mask));
            }
        }
    }
    for (std::size_t at = 0; at < hash.size(); ++at) {
        for (unsigned char mask : masks) {
            auto changed = hash;
            changed[at] = static_cast<char>(changed[at] ^ mask);
            ++changes;
            if (verify_signature(p7s, changed, trusted) != nullptr) {
                ++accepted;
                MESSAGE("accepted: root hash byte " << at << " ^ " << int(mask));
            }
        }
    }
    MESSAGE("tamper: " << changes - accepted << " of " << changes
                       << " changed signatures and root hashes refused");
    CHECK(accepted == 0);
}

TEST_CASE("tamper: every bit flip and inverted byte of the verity superblock is refused") {
    SignedNode node("superblock");
    test::make_signed_image(node.image(), 2 * 4096, 19, signer());
    auto verity = node.sidecar(".verity");
    auto original = read_file(verity);
    REQUIRE(check_verity_tree(node.image(), verity).problem == "");
    const unsigned char masks[] = {1, 2, 4, 8, 16, 32, 64, 128, 255};
    int changes = 0;
    int accepted = 0;
    std::fstream file(verity, std::ios::in | std::ios::out | std::ios::binary);
    auto put = [&](std::size_t at, char byte) {
        file.seekp(static_cast<std::streamoff>(at));
        file.put(byte);
        file.flush();
    };
    for (std::size_t at = 0; at < 4096; ++at) {
        for (unsigned char mask : masks) {
            put(at, static_cast<char>(original[at] ^ mask));
            ++changes;
            if (check_verity_tree(node.image(), verity).problem.empty()) {
                ++accepted;
                MESSAGE("accepted: .verity byte " << at << " ^ " << int(mask));
            }
        }
        put(at, original[at]);
    }
    MESSAGE("tamper: " << changes - accepted << " of " << changes
                       << " changed superblocks refused");
    CHECK(accepted == 0);
    CHECK(read_file(verity) == original);
}

TEST_CASE("tamper: another image's valid signature or whole verity data swapped in is refused") {
    SignedNode node("swap");
    test::make_signed_image(node.image(), 8 * 4096, 7, signer());
    auto other = fs::absolute("swap-other/hello_1.0.0_6.1.0-28-amd64.raw");
    test::make_signed_image(other, 8 * 4096, 8, signer());
    auto other_stem = other.string().substr(0, other.string().size() - 4);
    node.trust(signer());
    SUBCASE("the signature alone") {
        fs::copy_file(other_stem + ".roothash.p7s", node.sidecar(".roothash.p7s"),
                      fs::copy_options::overwrite_existing);
        CHECK(node.select() == 0);
        CHECK(node.refusal() == kNoSignature);
    }
    SUBCASE("signature and root hash") {
        for (const char* suffix : {".roothash", ".roothash.p7s"}) {
            fs::copy_file(other_stem + suffix, node.sidecar(suffix),
                          fs::copy_options::overwrite_existing);
        }
        CHECK(node.select() == 0);
        CHECK(node.refusal() == kRootHashMismatch);
    }
    SUBCASE("signature, root hash and hash tree") {
        for (const char* suffix : {".verity", ".roothash", ".roothash.p7s"}) {
            fs::copy_file(other_stem + suffix, node.sidecar(suffix),
                          fs::copy_options::overwrite_existing);
        }
        CHECK(node.select() == 0);
        CHECK(node.refusal() == kRootHashMismatch);
    }
    CHECK(node.link("hello.raw") == "");
    CHECK(node.logged("refused /var/lib/kmod-sysext/hello/hello_1.0.0_6.1.0-28-amd64.raw: " +
                      node.refusal()));
}

TEST_CASE("an image signed by a certificate that is not installed is refused") {
    SignedNode node("stranger");
    test::make_signed_image(node.image(), 4096, 9, stranger());
    node.trust(signer());
    CHECK(node.select() == 0);
    CHECK(node.link("hello.raw") == "");
    CHECK(node.logged("refused /var/lib/kmod-sysext/hello/hello_1.0.0_6.1.0-28-amd64.raw: "
                      "signature does not verify against any certificate in /etc/verity.d, "
                      "/etc/kmod-sysext/keys"));
}

TEST_CASE("a refused image is not replaced by an older verified version") {
    SignedNode node("nofallback");
    test::make_signed_image(node.image("1.0.0"), 4096, 10, signer());
    test::make_signed_image(node.image("1.1.0"), 4096, 11, stranger());
    node.trust(signer());
    CHECK(node.select() == 0);
    CHECK(node.link("hello.raw") == "");
    CHECK(node.refusal() == kNoSignature);
    CHECK(node.all_lines().find("hello_1.0.0") == std::string::npos);
}

TEST_CASE("signatures required by policy: missing sidecars refuse the image") {
    SignedNode node("required");
    test::write_random(node.image(), 4096, 12);
    node.policy("# this node runs signed images only\nSIGNATURES=required\n");
    SUBCASE("no certificate installed") {
        CHECK(node.select() == 0);
        CHECK(node.refusal() == "no usable certificate in /etc/verity.d, /etc/kmod-sysext/keys "
                                "(signatures required by policy)");
    }
    SUBCASE("no sidecar at all") {
        node.trust(signer());
        CHECK(node.select() == 0);
        CHECK(node.refusal() ==
              "missing .verity, .roothash, .roothash.p7s (signatures required by policy)");
    }
    SUBCASE("verity data but no signature") {
        node.trust(signer());
        test::add_verity(node.image());
        CHECK(node.select() == 0);
        CHECK(node.refusal() == "missing .roothash.p7s (signatures required by policy)");
    }
    CHECK(node.link("hello.raw") == "");
}

TEST_CASE("an installed certificate makes signatures required by default") {
    SignedNode node("auto");
    test::write_random(node.image(), 4096, 13);
    node.trust(signer());
    CHECK(node.select() == 0);
    CHECK(node.link("hello.raw") == "");
    CHECK(node.refusal() ==
          "missing .verity, .roothash, .roothash.p7s (signatures required by policy)");
}

TEST_CASE("signatures optional: an unsigned image is linked, a signed one is still checked") {
    SignedNode node("optional");
    node.policy("SIGNATURES=optional\n");
    node.trust(signer());
    test::write_random(node.image(), 4096, 14);
    CHECK(node.select() == 0);
    CHECK(node.link("hello.raw") == "/var/lib/kmod-sysext/hello/hello_1.0.0_6.1.0-28-amd64.raw");
    CHECK(node.logged("not verified hello_1.0.0_6.1.0-28-amd64.raw: no verity data (signatures "
                      "optional)"));

    test::make_signed_image(node.image(), 4096, 15, stranger());
    CHECK(node.select() == 0);
    CHECK(node.link("hello.raw") == "");
    CHECK(node.refusal() == kNoSignature);
}

TEST_CASE("without a policy file or certificates an unsigned image is linked") {
    SignedNode node("nothing");
    test::write_random(node.image(), 4096, 16);
    CHECK(node.select() == 0);
    CHECK(node.link("hello.raw") != "");
}

TEST_CASE("a policy file that cannot be used is an error and signatures are required") {
    SignedNode node("badpolicy");
    test::write_random(node.image(), 4096, 17);
    node.policy("SIGNATURES=sometimes\n");
    CHECK(node.select() == 1);
    CHECK(node.link("hello.raw") == "");
    CHECK(node.logged((node.root / "etc/kmod-sysext/policy.conf").string() +
                      ":1: SIGNATURES \"sometimes\" is not required, optional or auto; "
                      "requiring signatures"));
}

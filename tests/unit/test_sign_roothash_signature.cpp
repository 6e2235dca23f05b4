// The root hash signature: the bytes of `openssl smime -sign -nocerts -noattr -binary -outform
// DER` over the hex root hash, and the check systemd's userspace fallback makes.
#include "sign/roothash_signature.hpp"
#include "sign_fixture.hpp"

#include <doctest/doctest.h>

namespace fs = std::filesystem;
using namespace ksx;
using namespace ksx::sign;
using ksx::test::keygen_pair;
using ksx::test::write_data;

namespace {

const std::string root_hash = "8f3c1d9b2a0e4f5d6c7b8a9f0e1d2c3b4a5f6e7d8c9b0a1f2e3d4c5b6a7f8e9d";

std::string smime_sign(const KeygenResult& keys, const std::string& content) {
    write_data("sign-content", content);
    test::run_sign_tool({"openssl", "smime", "-sign", "-nocerts", "-noattr", "-binary", "-in",
                         "sign-content", "-signer", keys.cert_pem.string(), "-inkey",
                         keys.key.string(), "-outform", "DER", "-out", "sign-reference.p7s"});
    return read_file("sign-reference.p7s");
}

std::vector<Certificate> trusted(const KeygenResult& keys) {
    std::vector<Certificate> out;
    out.push_back(load_certificate(keys.crt));
    return out;
}

} // namespace

TEST_CASE("the root hash signature is byte-identical to openssl smime's") {
    const auto& keys = keygen_pair(KeyAlgorithm::Rsa4096);
    auto signer = load_signer(keys.key, keys.cert_pem);
    CHECK(sign_root_hash(root_hash, signer) == smime_sign(keys, root_hash));
}

TEST_CASE("openssl smime verifies the signature over the hex root hash without a newline") {
    const auto& keys = keygen_pair(KeyAlgorithm::EcdsaP256);
    auto signer = load_signer(keys.key, keys.cert_pem);
    write_data("sign-sig.p7s", sign_root_hash(root_hash, signer));
    write_data("sign-content", root_hash);
    test::run_sign_tool({"openssl", "smime", "-verify", "-binary", "-inform", "DER", "-in",
                         "sign-sig.p7s", "-content", "sign-content", "-certfile",
                         keys.cert_pem.string(), "-nointern", "-noverify", "-out", "/dev/null"});
}

TEST_CASE("a signature verifies against its certificate only and over its root hash only") {
    const auto& rsa = keygen_pair(KeyAlgorithm::Rsa4096);
    const auto& ecdsa = keygen_pair(KeyAlgorithm::EcdsaP256);
    auto der = sign_root_hash(root_hash, load_signer(rsa.key, rsa.cert_pem));

    auto good = check_root_hash_signature(der, root_hash, trusted(rsa));
    CHECK(good.valid);
    CHECK(good.detail == "signed by CN=kmod-sysext test");
    CHECK(good.fingerprint == rsa.fingerprint);

    CHECK_FALSE(check_root_hash_signature(der, root_hash, trusted(ecdsa)).valid);
    auto other = root_hash;
    other[0] = '9';
    CHECK_FALSE(check_root_hash_signature(der, other, trusted(rsa)).valid);
    CHECK_FALSE(check_root_hash_signature(der, root_hash + "\n", trusted(rsa)).valid);

    auto none = check_root_hash_signature(der, root_hash, {});
    CHECK_FALSE(none.valid);
    CHECK(none.detail == "signature present, signer not checked (no --cert given)");

    auto garbage = check_root_hash_signature("garbage", root_hash, trusted(rsa));
    CHECK_FALSE(garbage.valid);
    CHECK(garbage.detail == "not a DER PKCS#7 signature");
}

TEST_CASE("every single-byte change of a root hash signature is rejected") {
    for (auto algorithm : {KeyAlgorithm::Rsa4096, KeyAlgorithm::EcdsaP256}) {
        const auto& keys = keygen_pair(algorithm);
        auto der = sign_root_hash(root_hash, load_signer(keys.key, keys.cert_pem));
        auto certs = trusted(keys);
        REQUIRE(check_root_hash_signature(der, root_hash, certs).valid);
        for (size_t i = 0; i < der.size(); ++i) {
            for (unsigned mask : {0x01u, 0x80u, 0xffu}) {
                auto changed = der;
                changed[i] = static_cast<char>(static_cast<unsigned char>(changed[i]) ^ mask);
                CAPTURE(i);
                CAPTURE(mask);
                CHECK_FALSE(check_root_hash_signature(changed, root_hash, certs).valid);
            }
        }
    }
}

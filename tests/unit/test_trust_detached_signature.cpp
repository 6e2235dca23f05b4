// The strict detached PKCS#7 check is one implementation: what `kmod-sysext verify` refuses,
// the activator refuses too, with the signatures both gates once judged differently.
#include "activator/signature.hpp"
#include "sign/roothash_signature.hpp"
#include "sign_fixture.hpp"
#include "trust/detached_signature.hpp"

#include <doctest/doctest.h>
#include <openssl/objects.h>
#include <openssl/pkcs7.h>
#include <string>
#include <vector>

namespace fs = std::filesystem;
using namespace ksx;
using ksx::test::keygen_pair;

namespace {

const std::string root_hash = "8f3c1d9b2a0e4f5d6c7b8a9f0e1d2c3b4a5f6e7d8c9b0a1f2e3d4c5b6a7f8e9d";

// What each gate says of `der` over the root hash with the key pair's certificate trusted: the
// builder's verify (its detail, empty when valid) and whether the activator accepts it.
struct Verdicts {
    std::string builder;
    bool activator = false;
};

Verdicts judge(const std::string& der, const sign::KeygenResult& keys) {
    std::vector<sign::Certificate> builder_trusted;
    builder_trusted.push_back(sign::load_certificate(keys.crt));
    auto builder = sign::check_root_hash_signature(der, root_hash, builder_trusted);
    auto node_trusted = activator::read_certificates(keys.crt);
    return {builder.valid ? "" : builder.detail,
            activator::verify_signature(der, root_hash, node_trusted) != nullptr};
}

// `der` with its SignerInfo's signature algorithm replaced by `nid` (parameters NULL) and
// encoded again: the signature value still verifies, as OpenSSL does not look at this field.
std::string with_signature_algorithm(const std::string& der, int nid) {
    const auto* bytes = reinterpret_cast<const unsigned char*>(der.data());
    sign::Pkcs7 p7(d2i_PKCS7(nullptr, &bytes, static_cast<long>(der.size())));
    REQUIRE(p7);
    auto* info = sk_PKCS7_SIGNER_INFO_value(p7->d.sign->signer_info, 0);
    REQUIRE(X509_ALGOR_set0(info->digest_enc_alg, OBJ_nid2obj(nid), V_ASN1_NULL, nullptr) == 1);
    unsigned char* out = nullptr;
    int size = i2d_PKCS7(p7.get(), &out);
    REQUIRE(size > 0);
    std::string changed(reinterpret_cast<char*>(out), static_cast<std::size_t>(size));
    OPENSSL_free(out);
    return changed;
}

} // namespace

TEST_CASE("both gates accept the signature kmod-sysext writes, for RSA and ECDSA keys") {
    for (auto algorithm : {sign::KeyAlgorithm::Rsa4096, sign::KeyAlgorithm::EcdsaP256}) {
        const auto& keys = keygen_pair(algorithm);
        auto der = sign::sign_root_hash(root_hash, sign::load_signer(keys.key, keys.cert_pem));
        auto verdicts = judge(der, keys);
        CHECK(verdicts.builder == "");
        CHECK(verdicts.activator);
    }
}

TEST_CASE("both gates refuse a signature algorithm other than the one the signer's key writes") {
    const auto& rsa = keygen_pair(sign::KeyAlgorithm::Rsa4096);
    auto der = sign::sign_root_hash(root_hash, sign::load_signer(rsa.key, rsa.cert_pem));
    const auto& ecdsa = keygen_pair(sign::KeyAlgorithm::EcdsaP256);
    auto ec_der = sign::sign_root_hash(root_hash, sign::load_signer(ecdsa.key, ecdsa.cert_pem));
    struct Case {
        std::string der;
        const sign::KeygenResult* keys;
    };
    for (const auto& [changed, keys] :
         {Case{with_signature_algorithm(der, NID_sha256WithRSAEncryption), &rsa},
          Case{with_signature_algorithm(der, NID_sha512WithRSAEncryption), &rsa},
          Case{with_signature_algorithm(ec_der, NID_ecdsa_with_SHA384), &ecdsa}}) {
        // Still a signature OpenSSL verifies: only the strict check tells the changed byte.
        auto verdicts = judge(changed, *keys);
        CHECK(verdicts.builder ==
              "signature algorithm is not RSA or ECDSA with the signer's digest");
        CHECK_FALSE(verdicts.activator);
    }
}

TEST_CASE("both gates refuse a signature that carries its certificate") {
    const auto& keys = keygen_pair(sign::KeyAlgorithm::Rsa4096);
    test::write_data("trust-content", root_hash);
    // As `openssl smime -sign` writes it without -nocerts: valid, but not what kmod-sysext writes.
    test::run_sign_tool({"openssl", "smime", "-sign", "-noattr", "-binary", "-in", "trust-content",
                         "-signer", keys.cert_pem.string(), "-inkey", keys.key.string(), "-outform",
                         "DER", "-out", "trust-with-cert.p7s"});
    auto verdicts = judge(read_file("trust-with-cert.p7s"), keys);
    CHECK(verdicts.builder == "signature carries certificates or CRLs");
    CHECK_FALSE(verdicts.activator);
}

TEST_CASE("the one check names the trusted certificate that signed, or why none did") {
    const auto& rsa = keygen_pair(sign::KeyAlgorithm::Rsa4096);
    const auto& ecdsa = keygen_pair(sign::KeyAlgorithm::EcdsaP256);
    auto der = sign::sign_root_hash(root_hash, sign::load_signer(rsa.key, rsa.cert_pem));
    auto rsa_cert = sign::load_certificate(rsa.crt);
    auto ecdsa_cert = sign::load_certificate(ecdsa.crt);
    auto check =
        trust::check_detached_signature(der, root_hash, {ecdsa_cert.get(), rsa_cert.get()});
    CHECK(check.signer == rsa_cert.get());
    CHECK(check.problem == "");
    auto stranger = trust::check_detached_signature(der, root_hash, {ecdsa_cert.get()});
    CHECK(stranger.signer == nullptr);
    CHECK(stranger.well_formed);
    CHECK(stranger.problem == "signer is none of the given certificates");
    auto other = trust::check_detached_signature(der, root_hash + "\n", {rsa_cert.get()});
    CHECK(other.signer == nullptr);
    CHECK(other.problem.starts_with("signature does not verify"));
}

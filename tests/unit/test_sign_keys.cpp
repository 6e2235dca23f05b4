// keygen's keys and certificates, loading them, and the warning about readable key files.
#include "sign/keys.hpp"
#include "sign/pkcs11_key.hpp"
#include "sign_fixture.hpp"
#include "util/error.hpp"

#include <doctest/doctest.h>
#include <sys/stat.h>

namespace fs = std::filesystem;
using namespace ksx;
using namespace ksx::sign;
using ksx::test::keygen_pair;

namespace {

unsigned mode_of(const fs::path& path) {
    struct stat st {};
    REQUIRE(::stat(path.c_str(), &st) == 0);
    return st.st_mode & 07777;
}

} // namespace

TEST_CASE("keygen writes a private key only its owner reads and the certificate three ways") {
    const auto& keys = keygen_pair(KeyAlgorithm::Rsa4096);
    CHECK(keys.key.filename() == "key.pem");
    CHECK(keys.crt.filename() == "test.crt");
    CHECK(mode_of(keys.key) == 0600);
    CHECK(mode_of(keys.cert_pem) == 0644);
    CHECK(read_file(keys.crt) == read_file(keys.cert_pem));
    auto pem = load_certificate(keys.cert_pem);
    auto der = load_certificate(keys.cert_der);
    CHECK(certificate_der(pem.get()) == read_file(keys.cert_der));
    CHECK(certificate_fingerprint(der.get()) == keys.fingerprint);
    CHECK(certificate_subject(pem.get()) == "CN=kmod-sysext test");
    CHECK_FALSE(key_permission_warning(keys.key));
}

TEST_CASE("the certificate is fit for module signing: v3, not a CA, codeSigning, a key id") {
    for (auto algorithm : {KeyAlgorithm::Rsa4096, KeyAlgorithm::EcdsaP256}) {
        const auto& keys = keygen_pair(algorithm);
        auto text = test::run_sign_tool(
            {"openssl", "x509", "-noout", "-text", "-in", keys.cert_pem.string()});
        CHECK(text.find("Version: 3 (0x2)") != std::string::npos);
        CHECK(text.find("CA:FALSE") != std::string::npos);
        CHECK(text.find("Digital Signature") != std::string::npos);
        CHECK(text.find("Code Signing") != std::string::npos);
        CHECK(text.find("X509v3 Subject Key Identifier") != std::string::npos);
        CHECK(text.find(algorithm == KeyAlgorithm::Rsa4096
                            ? "Public-Key: (4096 bit)"
                            : "NIST CURVE: P-256") != std::string::npos);
        // Valid for ten years.
        auto end =
            test::run_sign_tool({"openssl", "x509", "-noout", "-checkend",
                                 std::to_string(3649LL * 86400), "-in", keys.cert_pem.string()});
        CHECK(end.find("will not expire") != std::string::npos);
    }
}

TEST_CASE("a key that does not match its certificate is an input error") {
    const auto& rsa = keygen_pair(KeyAlgorithm::Rsa4096);
    const auto& ecdsa = keygen_pair(KeyAlgorithm::EcdsaP256);
    CHECK_THROWS_WITH_AS(load_signer(rsa.key, ecdsa.cert_pem),
                         ("signing key " + rsa.key.string() + " does not match certificate " +
                          ecdsa.cert_pem.string())
                             .c_str(),
                         InputError);
}

TEST_CASE("files that are not keys or certificates are input errors naming them") {
    test::write_data("sign-junk", "not a key");
    CHECK_THROWS_AS(load_private_key("sign-junk"), InputError);
    CHECK_THROWS_AS(load_certificate("sign-junk"), InputError);
    CHECK_THROWS_AS(load_certificate("sign-missing.pem"), InputError);
}

TEST_CASE("a key file readable by group or others gets a warning") {
    const auto& keys = keygen_pair(KeyAlgorithm::EcdsaP256);
    fs::copy_file(keys.key, "sign-loose.pem", fs::copy_options::overwrite_existing);
    ::chmod("sign-loose.pem", 0640);
    CHECK(key_permission_warning("sign-loose.pem") ==
          "signing key sign-loose.pem is readable by its group (mode 0640); chmod 600 it");
    ::chmod("sign-loose.pem", 0644);
    CHECK(key_permission_warning("sign-loose.pem") ==
          "signing key sign-loose.pem is readable by others (mode 0644); chmod 600 it");
}

TEST_CASE("a PKCS#11 URI is told from a file, and its PIN never shows in messages") {
    CHECK(is_pkcs11_uri("pkcs11:token=t;object=k"));
    CHECK_FALSE(is_pkcs11_uri("keys/pkcs11:k.pem"));
    CHECK(redacted_pkcs11_uri("pkcs11:token=t;object=k;pin-value=1234") ==
          "pkcs11:token=t;object=k;pin-value=(hidden)");
    CHECK(redacted_pkcs11_uri("pkcs11:token=t?pin-value=1234&module-path=/x.so") ==
          "pkcs11:token=t?pin-value=(hidden)&module-path=/x.so");
    CHECK(redacted_pkcs11_uri("pkcs11:object=k") == "pkcs11:object=k");
    CHECK(key_name("pkcs11:object=k;pin-value=9") == "pkcs11:object=k;pin-value=(hidden)");
    CHECK_FALSE(key_permission_warning("pkcs11:object=k"));
}

TEST_CASE("a shared signer holds the same key and certificate") {
    const auto& keys = keygen_pair(KeyAlgorithm::EcdsaP256);
    auto signer = load_signer(keys.key, keys.cert_pem);
    auto shared = shared_signer(signer);
    CHECK(shared.key.get() == signer.key.get());
    CHECK(shared.certificate.get() == signer.certificate.get());
    signer = Signer{}; // the shared handles outlive the original
    CHECK(X509_check_private_key(shared.certificate.get(), shared.key.get()) == 1);
}

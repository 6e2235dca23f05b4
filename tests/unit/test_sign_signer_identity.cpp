// Reading the signer of module and root hash signatures (what `inspect` shows): issuer, serial
// number and digest as openssl prints them, the certificate they name, and the sidecars.
#include "sign/image_signature.hpp"
#include "sign/module_signature.hpp"
#include "sign/roothash_signature.hpp"
#include "sign/sidecar_info.hpp"
#include "sign/signer_identity.hpp"
#include "sign_fixture.hpp"
#include "util/error.hpp"
#include "util/sha256.hpp"

#include <doctest/doctest.h>

namespace fs = std::filesystem;
using namespace ksx;
using namespace ksx::sign;
using ksx::test::keygen_pair;
using ksx::test::random_data;
using ksx::test::write_data;

namespace {

// The certificate's serial number as `openssl x509 -serial` prints it ("serial=0A1B..."),
// written the way modinfo prints a key id ("0A:1B:...").
std::string openssl_serial(const fs::path& cert) {
    auto line = test::run_sign_tool({"openssl", "x509", "-in", cert.string(), "-noout", "-serial"});
    REQUIRE(line.starts_with("serial="));
    auto hex = line.substr(7, line.find_last_not_of("\n") - 6);
    std::string out;
    for (size_t i = 0; i < hex.size(); i += 2) {
        out += (i == 0 ? "" : ":") + hex.substr(i, 2);
    }
    return out;
}

std::vector<Certificate> both_certificates() {
    std::vector<Certificate> out;
    out.push_back(load_certificate(keygen_pair(KeyAlgorithm::EcdsaP256).crt));
    out.push_back(load_certificate(keygen_pair(KeyAlgorithm::Rsa4096).cert_der));
    return out;
}

} // namespace

TEST_CASE("a module signature names its signer's issuer, serial number and digest") {
    const auto& keys = keygen_pair(KeyAlgorithm::Rsa4096);
    auto signer = load_signer(keys.key, keys.cert_pem);
    auto serial = openssl_serial(keys.cert_pem);
    for (const std::string hash : {"sha224", "sha256", "sha384", "sha512"}) {
        CAPTURE(hash);
        auto identity = module_signer(sign_module(random_data(3000, 7), signer, hash));
        REQUIRE(identity);
        CHECK(identity->common_name == "kmod-sysext test");
        CHECK(identity->issuer == "CN=kmod-sysext test");
        CHECK(identity->serial == serial);
        CHECK(identity->hash == hash);
        auto certificates = both_certificates();
        X509* named = certificate_of(*identity, certificates);
        CHECK(named == certificates[1].get());
    }
    CHECK_FALSE(module_signer(random_data(3000, 8)));
}

TEST_CASE("a root hash signature names the ECDSA signer and no other certificate") {
    const auto& keys = keygen_pair(KeyAlgorithm::EcdsaP256);
    auto signer = load_signer(keys.key, keys.cert_pem);
    auto identity = signer_identity(sign_root_hash(std::string(64, 'a'), signer));
    CHECK(identity.common_name == "kmod-sysext test");
    CHECK(identity.serial == openssl_serial(keys.cert_pem));
    CHECK(identity.hash == "sha256");
    auto certificates = both_certificates();
    CHECK(certificate_of(identity, certificates) == certificates[0].get());
    std::vector<Certificate> rsa_only;
    rsa_only.push_back(load_certificate(keygen_pair(KeyAlgorithm::Rsa4096).crt));
    CHECK(certificate_of(identity, rsa_only) == nullptr);
}

TEST_CASE("bytes that are no PKCS#7 signature are an input error") {
    CHECK_THROWS_WITH_AS(signer_identity(std::string_view("\x30\x03\x02\x01\x01", 5)),
                         "not a DER PKCS#7 signature", InputError);
    auto bad = random_data(100, 9) + "12345" + std::string("\0\0\2\0\0\0\0\0\0\0\0\5", 12) +
               std::string(module_signature_magic);
    CHECK_THROWS_WITH_AS(module_signer(bad), "not a DER PKCS#7 signature", InputError);
}

TEST_CASE("read_sidecars gives the root hash and signer, or what is missing or unreadable") {
    const auto& keys = keygen_pair(KeyAlgorithm::Rsa4096);
    auto signer = load_signer(keys.key, keys.cert_pem);
    auto image = fs::absolute("demo_1.0_6.1.0-test-amd64.raw");
    write_data(image, random_data(8 * 4096, 10));
    CHECK_FALSE(read_sidecars(image));

    auto signed_image = sign_image(image, sha256_file_hex(image), signer, 2);
    auto info = read_sidecars(image);
    REQUIRE(info);
    CHECK(info->has_verity);
    CHECK(info->root_hash == signed_image.root_hash);
    REQUIRE(info->signer);
    CHECK(info->signer->common_name == "kmod-sysext test");
    CHECK(info->signer->serial == openssl_serial(keys.cert_pem));
    CHECK(info->signature_problem.empty());

    write_data(signed_image.sidecars.signature, "garbage");
    fs::remove(signed_image.sidecars.verity);
    info = read_sidecars(image);
    REQUIRE(info);
    CHECK_FALSE(info->has_verity);
    CHECK_FALSE(info->signer);
    CHECK(info->signature_problem == "not a DER PKCS#7 signature");
}

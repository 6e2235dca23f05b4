// Module signatures: byte for byte what the kernel's scripts/sign-file appends, read back and
// checked against certificates.
#include "sign/module_signature.hpp"
#include "sign_fixture.hpp"
#include "util/error.hpp"

#include <doctest/doctest.h>

namespace fs = std::filesystem;
using namespace ksx;
using namespace ksx::sign;
using ksx::test::keygen_pair;
using ksx::test::random_data;
using ksx::test::write_data;

namespace {

Signer rsa_signer() {
    const auto& keys = keygen_pair(KeyAlgorithm::Rsa4096);
    return load_signer(keys.key, keys.cert_pem);
}

std::vector<Certificate> trusted_rsa() {
    std::vector<Certificate> out;
    out.push_back(load_certificate(keygen_pair(KeyAlgorithm::Rsa4096).cert_der));
    return out;
}

} // namespace

TEST_CASE("a module signed here is byte-identical to one signed by the kernel's sign-file") {
    auto tool = test::kernel_sign_file();
    const auto& keys = keygen_pair(KeyAlgorithm::Rsa4096);
    auto signer = rsa_signer();
    for (const std::string hash : {"sha256", "sha512", "sha384", "sha224"}) {
        for (size_t size : {size_t{1}, size_t{4096}, size_t{123457}}) {
            CAPTURE(hash);
            CAPTURE(size);
            auto module = random_data(size, static_cast<unsigned>(size));
            auto file = fs::absolute("sign-m.ko");
            write_data(file, module);
            test::run_sign_tool(
                {tool.string(), hash, keys.key.string(), keys.cert_pem.string(), file.string()});
            auto expected = read_file(file);
            CHECK(sign_module(module, signer, hash) == expected);
        }
    }
}

TEST_CASE("the signature block ends in the 12-byte header and the magic") {
    auto signer = rsa_signer();
    auto module = random_data(5000, 1);
    auto block = module_signature(module, signer, "sha256");
    REQUIRE(block.size() > 40);
    CHECK(block.ends_with("~Module signature appended~\n"));
    auto header = block.substr(block.size() - 28 - 12, 12);
    auto cms_size = block.size() - 28 - 12;
    CHECK(header.substr(0, 8) == std::string("\0\0\2\0\0\0\0\0", 8));
    CHECK(static_cast<unsigned char>(header[10]) == ((cms_size >> 8) & 0xff));
    CHECK(static_cast<unsigned char>(header[11]) == (cms_size & 0xff));
}

TEST_CASE("a signed module verifies against its certificate and splits back into its parts") {
    auto signer = rsa_signer();
    auto module = random_data(20000, 2);
    auto signed_module = sign_module(module, signer, "sha256");
    auto parts = split_module_signature(signed_module);
    REQUIRE(parts);
    CHECK(parts->content == module);
    auto result = check_module_signature(signed_module, trusted_rsa());
    CHECK(result.valid);
    CHECK(result.detail == "signed by CN=kmod-sysext test");
}

TEST_CASE("an ECDSA key signs modules that verify") {
    const auto& keys = keygen_pair(KeyAlgorithm::EcdsaP256);
    auto signer = load_signer(keys.key, keys.cert_pem);
    auto signed_module = sign_module(random_data(3000, 3), signer, "sha256");
    std::vector<Certificate> trusted;
    trusted.push_back(load_certificate(keys.crt));
    CHECK(check_module_signature(signed_module, trusted).valid);
    CHECK_FALSE(check_module_signature(signed_module, trusted_rsa()).valid);
}

TEST_CASE("a changed module, an unsigned one and one without trusted certificates fail") {
    auto signer = rsa_signer();
    auto signed_module = sign_module(random_data(20000, 4), signer, "sha256");
    auto tampered = signed_module;
    tampered[100] = static_cast<char>(tampered[100] ^ 1);
    CHECK_FALSE(check_module_signature(tampered, trusted_rsa()).valid);

    auto unsigned_result = check_module_signature(random_data(100, 5), trusted_rsa());
    CHECK_FALSE(unsigned_result.valid);
    CHECK(unsigned_result.detail == "not signed");

    auto unchecked = check_module_signature(signed_module, {});
    CHECK_FALSE(unchecked.valid);
    CHECK(unchecked.detail == "signature present, signer not checked (no --cert given)");

    auto bad_length = signed_module;
    bad_length[bad_length.size() - 28 - 4] = '\x7f';
    auto result = check_module_signature(bad_length, trusted_rsa());
    CHECK_FALSE(result.valid);
    CHECK(result.detail.starts_with("module signature length "));
}

TEST_CASE("an unknown signature hash is an input error") {
    auto signer = rsa_signer();
    CHECK_THROWS_WITH_AS(module_signature("x", signer, "md5"),
                         "module signature hash \"md5\" is not supported", InputError);
}

TEST_CASE("every single-byte change of a module's signature block is rejected") {
    auto module = random_data(1000, 6);
    auto signed_module = sign_module(module, rsa_signer(), "sha256");
    auto certs = trusted_rsa();
    REQUIRE(check_module_signature(signed_module, certs).valid);
    for (size_t i = module.size(); i < signed_module.size(); ++i) {
        for (unsigned mask : {0x01u, 0x80u, 0xffu}) {
            auto changed = signed_module;
            changed[i] = static_cast<char>(static_cast<unsigned char>(changed[i]) ^ mask);
            CAPTURE(i - module.size());
            CAPTURE(mask);
            CHECK_FALSE(check_module_signature(changed, certs).valid);
        }
    }
}

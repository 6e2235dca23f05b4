#include "sign/roothash_signature.hpp"

#include "sign/detached_signature.hpp"

#include <openssl/err.h>

namespace ksx::sign {

std::string sign_root_hash(std::string_view root_hash_hex, const Signer& signer) {
    auto content = memory_bio(root_hash_hex);
    // openssl smime's sequence: a partial PKCS7_sign, the signer, then PKCS7_final.
    constexpr int flags =
        PKCS7_NOCERTS | PKCS7_NOATTR | PKCS7_BINARY | PKCS7_DETACHED | PKCS7_PARTIAL;
    Pkcs7 p7(PKCS7_sign(nullptr, nullptr, nullptr, nullptr, flags));
    if (!p7) {
        throw_openssl("failed to start the root hash signature");
    }
    if (PKCS7_sign_add_signer(p7.get(), signer.certificate.get(), signer.key.get(), nullptr,
                              flags) == nullptr) {
        throw_openssl("failed to add the root hash signer");
    }
    if (PKCS7_final(p7.get(), content.get(), flags) != 1) {
        throw_openssl("failed to sign the root hash");
    }
    unsigned char* der = nullptr;
    int size = i2d_PKCS7(p7.get(), &der);
    if (size <= 0) {
        throw_openssl("failed to encode the root hash signature");
    }
    std::string out(reinterpret_cast<char*>(der), static_cast<size_t>(size));
    OPENSSL_free(der);
    return out;
}

RootHashSignatureCheck check_root_hash_signature(std::string_view der,
                                                 std::string_view root_hash_hex,
                                                 const std::vector<Certificate>& trusted) {
    auto result = check_detached_signature(der, root_hash_hex, trusted);
    return {result.valid, result.detail, result.fingerprint};
}

} // namespace ksx::sign

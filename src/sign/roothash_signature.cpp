#include "sign/roothash_signature.hpp"

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
    auto bytes = reinterpret_cast<const unsigned char*>(der.data());
    Pkcs7 p7(d2i_PKCS7(nullptr, &bytes, static_cast<long>(der.size())));
    if (!p7 || bytes != reinterpret_cast<const unsigned char*>(der.data() + der.size())) {
        ERR_clear_error();
        return {false, "not a DER PKCS#7 signature", {}};
    }
    if (PKCS7_type_is_signed(p7.get()) == 0) {
        return {false, "PKCS#7 data is not signedData", {}};
    }
    if (trusted.empty()) {
        return {false, "signature present, signer not checked (no --cert given)", {}};
    }
    CertificateStack stack(trusted);
    auto content = memory_bio(root_hash_hex);
    constexpr int flags = PKCS7_NOINTERN | PKCS7_NOVERIFY | PKCS7_BINARY;
    if (PKCS7_verify(p7.get(), stack.get(), nullptr, content.get(), nullptr, flags) != 1) {
        return {
            false, openssl_message("signature does not verify with the given certificates"), {}};
    }
    STACK_OF(X509)* signers = PKCS7_get0_signers(p7.get(), stack.get(), flags);
    if (signers == nullptr || sk_X509_num(signers) == 0) {
        sk_X509_free(signers);
        return {false, openssl_message("no signer among the given certificates"), {}};
    }
    X509* signer = sk_X509_value(signers, 0);
    RootHashSignatureCheck result{true, "signed by " + certificate_subject(signer),
                                  certificate_fingerprint(signer)};
    sk_X509_free(signers);
    return result;
}

} // namespace ksx::sign

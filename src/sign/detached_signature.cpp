#include "sign/detached_signature.hpp"

#include "sign/signer_identity.hpp"
#include "util/error.hpp"

#include <algorithm>
#include <array>
#include <openssl/err.h>
#include <openssl/objects.h>
#include <optional>

namespace ksx::sign {

namespace {

constexpr std::array digest_nids{NID_sha224, NID_sha256, NID_sha384, NID_sha512};
constexpr std::array signature_nids{NID_rsaEncryption,           NID_sha224WithRSAEncryption,
                                    NID_sha256WithRSAEncryption, NID_sha384WithRSAEncryption,
                                    NID_sha512WithRSAEncryption, NID_X9_62_id_ecPublicKey,
                                    NID_ecdsa_with_SHA224,       NID_ecdsa_with_SHA256,
                                    NID_ecdsa_with_SHA384,       NID_ecdsa_with_SHA512};

template <typename Array> bool contains(const Array& nids, int nid) {
    return std::find(nids.begin(), nids.end(), nid) != nids.end();
}

// The algorithm's NID when its parameters are absent or NULL (as writers put them), else 0.
int plain_algorithm(const X509_ALGOR* algorithm) {
    const ASN1_OBJECT* object = nullptr;
    int type = 0;
    const void* value = nullptr;
    X509_ALGOR_get0(&object, &type, &value, algorithm);
    if (type != V_ASN1_UNDEF && type != V_ASN1_NULL) {
        return 0;
    }
    return OBJ_obj2nid(object);
}

std::optional<std::string> form_problem(PKCS7* p7, std::string_view der) {
    if (PKCS7_type_is_signed(p7) == 0) {
        return "not a PKCS#7 signedData";
    }
    PKCS7_SIGNED* data = p7->d.sign;
    if (ASN1_INTEGER_get(data->version) != 1) {
        return "signedData version is not 1";
    }
    if (data->contents == nullptr || PKCS7_type_is_data(data->contents) == 0 ||
        PKCS7_get_detached(p7) == 0) {
        return "signature is not detached over data";
    }
    if (sk_X509_num(data->cert) > 0 || sk_X509_CRL_num(data->crl) > 0) {
        return "signature carries certificates or CRLs";
    }
    if (sk_X509_ALGOR_num(data->md_algs) != 1 || sk_PKCS7_SIGNER_INFO_num(data->signer_info) != 1) {
        return "signature does not have exactly one signer and digest";
    }
    PKCS7_SIGNER_INFO* info = sk_PKCS7_SIGNER_INFO_value(data->signer_info, 0);
    if (ASN1_INTEGER_get(info->version) != 1) {
        return "signerInfo version is not 1";
    }
    if (sk_X509_ATTRIBUTE_num(info->auth_attr) > 0 ||
        sk_X509_ATTRIBUTE_num(info->unauth_attr) > 0) {
        return "signature has attributes";
    }
    int digest = plain_algorithm(info->digest_alg);
    if (!contains(digest_nids, digest) ||
        plain_algorithm(sk_X509_ALGOR_value(data->md_algs, 0)) != digest) {
        return "digest algorithm is not sha224/256/384/512 used consistently";
    }
    int signature = plain_algorithm(info->digest_enc_alg);
    int signature_digest = NID_undef;
    if (!contains(signature_nids, signature) ||
        (OBJ_find_sigid_algs(signature, &signature_digest, nullptr) == 1 &&
         signature_digest != digest)) {
        // OpenSSL would not notice ecdsa-with-SHA384 over a SHA-256 digest; the kernel would.
        return "signature algorithm is not RSA or ECDSA with the signer's digest";
    }
    unsigned char* encoded = nullptr;
    int size = i2d_PKCS7(p7, &encoded);
    bool same = size > 0 && std::string_view(reinterpret_cast<char*>(encoded),
                                             static_cast<size_t>(size)) == der;
    OPENSSL_free(encoded);
    if (!same) {
        return "signature is not in canonical DER";
    }
    return std::nullopt;
}

} // namespace

SignatureCheck check_detached_signature(std::string_view der, std::string_view content,
                                        const std::vector<Certificate>& trusted) {
    auto bytes = reinterpret_cast<const unsigned char*>(der.data());
    Pkcs7 p7(d2i_PKCS7(nullptr, &bytes, static_cast<long>(der.size())));
    if (!p7 || bytes != reinterpret_cast<const unsigned char*>(der.data() + der.size())) {
        ERR_clear_error();
        return {false, "not a DER PKCS#7 signature", {}};
    }
    if (auto problem = form_problem(p7.get(), der)) {
        return {false, *problem, {}};
    }
    if (trusted.empty()) {
        return {false, "signature present, signer not checked (no --cert given)", {}};
    }
    // The trusted certificate the signer info names, byte for byte.
    X509* signer = nullptr;
    try {
        signer = certificate_of(signer_identity(p7.get()), trusted);
    } catch (const InputError& e) {
        return {false, e.what(), {}};
    }
    if (signer == nullptr) {
        return {false, "signer is none of the given certificates", {}};
    }
    std::vector<Certificate> only;
    only.emplace_back(X509_dup(signer));
    if (!only.back()) {
        throw_openssl("failed to copy a certificate");
    }
    CertificateStack stack(only);
    auto data = memory_bio(content);
    constexpr int flags = PKCS7_NOINTERN | PKCS7_NOVERIFY | PKCS7_BINARY | PKCS7_NOCHAIN;
    if (PKCS7_verify(p7.get(), stack.get(), nullptr, data.get(), nullptr, flags) != 1) {
        return {false, openssl_message("signature does not verify"), {}};
    }
    return {true, "signed by " + certificate_subject(signer), certificate_fingerprint(signer)};
}

} // namespace ksx::sign

#include "trust/detached_signature.hpp"

#include "trust/openssl_error.hpp"
#include "util/error.hpp"
#include "util/unique_handle.hpp"

#include <algorithm>
#include <array>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pkcs7.h>
#include <optional>

namespace ksx::trust {

namespace {

using Bio = UniqueHandle<BIO, BIO_free>;
using Pkcs7 = UniqueHandle<PKCS7, PKCS7_free>;

void free_x509_stack(STACK_OF(X509) * stack) {
    sk_X509_free(stack); // the certificates belong to the caller
}
using X509Stack = UniqueHandle<STACK_OF(X509), free_x509_stack>;

constexpr std::array digest_nids{NID_sha224, NID_sha256, NID_sha384, NID_sha512};

// The algorithm's NID when its parameters are absent or NULL (as writers put them), else 0:
// parameters are an ASN.1 ANY that nothing else checks.
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

std::string der_of(const X509_NAME* name) {
    unsigned char* out = nullptr;
    int size = i2d_X509_NAME(name, &out);
    if (size < 0) {
        return {};
    }
    std::string bytes(reinterpret_cast<char*>(out), static_cast<std::size_t>(size));
    OPENSSL_free(out);
    return bytes;
}

// The signature algorithm a signer with `key` writes into its SignerInfo (what PKCS7_sign, CMS
// and so `openssl smime -sign` and sign-file put there): rsaEncryption for RSA keys, else the
// combined "<key>-with-<digest>" algorithm. OpenSSL does not compare it with the key or the
// digest (it would not notice ecdsa-with-SHA384 over a SHA-256 digest; the kernel would).
int signer_algorithm(const X509* signer, int digest) {
    const EVP_PKEY* key = X509_get0_pubkey(signer);
    if (key == nullptr) {
        return NID_undef;
    }
    int key_nid = EVP_PKEY_get_base_id(key);
    if (key_nid == EVP_PKEY_RSA) {
        return NID_rsaEncryption;
    }
    int combined = NID_undef;
    return OBJ_find_sigid_by_algs(&combined, digest, key_nid) == 1 ? combined : NID_undef;
}

// Why `p7`, parsed from `der`, is not in the form kmod-sysext writes; nullopt when it is.
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
    if (std::find(digest_nids.begin(), digest_nids.end(), digest) == digest_nids.end() ||
        plain_algorithm(sk_X509_ALGOR_value(data->md_algs, 0)) != digest) {
        return "digest algorithm is not sha224/256/384/512 used consistently";
    }
    unsigned char* encoded = nullptr;
    int size = i2d_PKCS7(p7, &encoded);
    bool same = size > 0 && std::string_view(reinterpret_cast<char*>(encoded),
                                             static_cast<std::size_t>(size)) == der;
    OPENSSL_free(encoded);
    if (!same) {
        return "signature is not in canonical DER";
    }
    return std::nullopt;
}

// The trusted certificate the signer info names by issuer (its DER: OpenSSL compares names
// case-insensitively) and serial number, or nullptr.
X509* named_signer(const PKCS7_SIGNER_INFO* info, const std::vector<X509*>& trusted) {
    auto issuer = der_of(info->issuer_and_serial->issuer);
    for (X509* certificate : trusted) {
        if (der_of(X509_get_issuer_name(certificate)) == issuer &&
            ASN1_INTEGER_cmp(info->issuer_and_serial->serial,
                             X509_get0_serialNumber(certificate)) == 0) {
            return certificate;
        }
    }
    return nullptr;
}

} // namespace

SignatureCheck check_detached_signature(std::string_view der, std::string_view content,
                                        const std::vector<X509*>& trusted) {
    SignatureCheck check;
    const auto* bytes = reinterpret_cast<const unsigned char*>(der.data());
    Pkcs7 p7(d2i_PKCS7(nullptr, &bytes, static_cast<long>(der.size())));
    if (!p7 || bytes != reinterpret_cast<const unsigned char*>(der.data() + der.size())) {
        ERR_clear_error();
        check.problem = "not a DER PKCS#7 signature";
        return check;
    }
    if (auto problem = form_problem(p7.get(), der)) {
        check.problem = *problem;
        return check;
    }
    check.well_formed = true;
    PKCS7_SIGNER_INFO* info = sk_PKCS7_SIGNER_INFO_value(p7->d.sign->signer_info, 0);
    X509* signer = named_signer(info, trusted);
    if (signer == nullptr) {
        check.problem = "signer is none of the given certificates";
        return check;
    }
    int digest = plain_algorithm(info->digest_alg);
    int algorithm = plain_algorithm(info->digest_enc_alg);
    if (algorithm == 0 || algorithm != signer_algorithm(signer, digest)) {
        check.problem = "signature algorithm is not RSA or ECDSA with the signer's digest";
        return check;
    }
    X509Stack only(sk_X509_new_null());
    if (!only || sk_X509_push(only.get(), signer) == 0) {
        throw_error("out of memory", {});
    }
    Bio data(BIO_new_mem_buf(content.data(), static_cast<int>(content.size())));
    if (!data) {
        throw_error("out of memory", {});
    }
    // NOINTERN: only the trusted certificate can be the signer; NOVERIFY: it is trusted as it
    // is, with no chain to a CA.
    constexpr int flags = PKCS7_NOINTERN | PKCS7_NOVERIFY | PKCS7_BINARY | PKCS7_NOCHAIN;
    if (PKCS7_verify(p7.get(), only.get(), nullptr, data.get(), nullptr, flags) != 1) {
        check.problem = openssl_message("signature does not verify");
        return check;
    }
    check.signer = signer;
    return check;
}

} // namespace ksx::trust

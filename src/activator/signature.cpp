#include "activator/signature.hpp"

#include "util/error.hpp"
#include "util/file_io.hpp"

#include <cstring>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/pkcs7.h>

namespace ksx::activator {

namespace {

using BioHandle = UniqueHandle<BIO, BIO_free>;
using Pkcs7Handle = UniqueHandle<PKCS7, PKCS7_free>;

void free_x509_stack(STACK_OF(X509) * stack) {
    sk_X509_free(stack); // the certificates belong to their Certificate
}
using X509StackHandle = UniqueHandle<STACK_OF(X509), free_x509_stack>;

BioHandle memory_bio(std::string_view bytes) {
    BioHandle bio(BIO_new_mem_buf(bytes.data(), static_cast<int>(bytes.size())));
    if (!bio) {
        throw Error("out of memory");
    }
    return bio;
}

std::string der(const X509_NAME* name) {
    unsigned char* out = nullptr;
    int size = i2d_X509_NAME(name, &out);
    if (size < 0) {
        return {};
    }
    std::string bytes(reinterpret_cast<char*>(out), static_cast<std::size_t>(size));
    OPENSSL_free(out);
    return bytes;
}

// Algorithm parameters are an ASN.1 ANY that nothing checks: only absent or NULL are ours.
bool plain_parameters(const X509_ALGOR* algorithm) {
    return algorithm->parameter == nullptr || algorithm->parameter->type == V_ASN1_NULL;
}

int algorithm_nid(const X509_ALGOR* algorithm) {
    return OBJ_obj2nid(algorithm->algorithm);
}

// The signature algorithm a signer with `key` writes into its SignerInfo (what PKCS7_sign,
// and so `openssl smime -sign`, puts there): rsaEncryption for RSA keys, else the combined
// "<key>-with-<digest>" algorithm.
int signer_algorithm_nid(const X509* signer, int digest_nid) {
    const EVP_PKEY* key = X509_get0_pubkey(signer);
    if (key == nullptr) {
        return NID_undef;
    }
    int key_nid = EVP_PKEY_get_base_id(key);
    if (key_nid == EVP_PKEY_RSA) {
        return NID_rsaEncryption;
    }
    int combined = NID_undef;
    return OBJ_find_sigid_by_algs(&combined, digest_nid, key_nid) == 1 ? combined : NID_undef;
}

// The fields of a signature that the cryptographic check does not cover must be exactly
// what a signer writes, so that no changed byte of the file goes unnoticed. OpenSSL checks
// neither the SignerInfo's algorithm identifiers (an unknown digest OID even matches the
// digest in use) nor the encoding, hence the checks here.
bool canonical(PKCS7* p7, std::string_view p7s, const X509* signer) {
    unsigned char* out = nullptr;
    int size = i2d_PKCS7(p7, &out);
    bool same = size >= 0 && static_cast<std::size_t>(size) == p7s.size() &&
                std::memcmp(out, p7s.data(), p7s.size()) == 0;
    OPENSSL_free(out);
    if (!same || !PKCS7_type_is_signed(p7) || ASN1_INTEGER_get(p7->d.sign->version) != 1 ||
        !PKCS7_type_is_data(p7->d.sign->contents) || p7->d.sign->contents->d.data != nullptr) {
        return false;
    }
    auto* digests = p7->d.sign->md_algs;
    auto* infos = PKCS7_get_signer_info(p7);
    if (sk_X509_ALGOR_num(digests) != 1 || sk_PKCS7_SIGNER_INFO_num(infos) != 1) {
        return false;
    }
    const X509_ALGOR* digest = sk_X509_ALGOR_value(digests, 0);
    auto* info = sk_PKCS7_SIGNER_INFO_value(infos, 0);
    int digest_nid = algorithm_nid(digest);
    if (digest_nid == NID_undef || EVP_get_digestbynid(digest_nid) == nullptr ||
        algorithm_nid(info->digest_alg) != digest_nid ||
        algorithm_nid(info->digest_enc_alg) != signer_algorithm_nid(signer, digest_nid)) {
        return false;
    }
    // Names compare case-insensitively in OpenSSL: compare the encoded issuer instead.
    return ASN1_INTEGER_get(info->version) == 1 && plain_parameters(digest) &&
           plain_parameters(info->digest_alg) && plain_parameters(info->digest_enc_alg) &&
           der(info->issuer_and_serial->issuer) == der(X509_get_issuer_name(signer)) &&
           ASN1_INTEGER_cmp(info->issuer_and_serial->serial, X509_get0_serialNumber(signer)) == 0;
}

} // namespace

std::vector<Certificate> read_certificates(const std::filesystem::path& file) {
    return parse_certificates(read_file(file), file);
}

std::vector<Certificate> parse_certificates(std::string_view bytes,
                                            const std::filesystem::path& file) {
    std::vector<Certificate> out;
    auto bio = memory_bio(bytes);
    while (X509* certificate = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)) {
        out.push_back({file, X509Handle(certificate)});
    }
    if (out.empty()) {
        const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
        if (X509* certificate = d2i_X509(nullptr, &p, static_cast<long>(bytes.size()))) {
            out.push_back({file, X509Handle(certificate)});
        }
    }
    ERR_clear_error();
    if (out.empty()) {
        throw Error(file.string() + ": not a PEM or DER certificate");
    }
    return out;
}

std::string subject_name(const X509* certificate) {
    const X509_NAME* subject = X509_get_subject_name(certificate);
    int at = X509_NAME_get_index_by_NID(subject, NID_commonName, -1);
    if (at >= 0) {
        unsigned char* utf8 = nullptr;
        int size =
            ASN1_STRING_to_UTF8(&utf8, X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subject, at)));
        if (size >= 0) {
            std::string name(reinterpret_cast<char*>(utf8), static_cast<std::size_t>(size));
            OPENSSL_free(utf8);
            return name;
        }
    }
    char line[256];
    X509_NAME_oneline(subject, line, sizeof line);
    return line;
}

const Certificate* verify_signature(std::string_view p7s, std::string_view content,
                                    const std::vector<Certificate>& trusted) {
    const auto* p = reinterpret_cast<const unsigned char*>(p7s.data());
    Pkcs7Handle p7(d2i_PKCS7(nullptr, &p, static_cast<long>(p7s.size())));
    if (!p7 || p != reinterpret_cast<const unsigned char*>(p7s.data()) + p7s.size() ||
        !PKCS7_type_is_signed(p7.get())) {
        ERR_clear_error();
        return nullptr;
    }
    X509StackHandle certificates(sk_X509_new_null());
    if (!certificates) {
        throw Error("out of memory");
    }
    for (const auto& certificate : trusted) {
        if (sk_X509_push(certificates.get(), certificate.x509.get()) == 0) {
            throw Error("out of memory");
        }
    }
    // NOINTERN: only the node's certificates can be signers; NOVERIFY: they are trusted as
    // they are, with no chain to a CA.
    const int flags = PKCS7_NOINTERN | PKCS7_NOVERIFY | PKCS7_BINARY | PKCS7_DETACHED;
    auto data = memory_bio(content);
    if (PKCS7_verify(p7.get(), certificates.get(), nullptr, data.get(), nullptr, flags) != 1) {
        ERR_clear_error();
        return nullptr;
    }
    X509StackHandle signers(PKCS7_get0_signers(p7.get(), certificates.get(), flags));
    if (!signers || sk_X509_num(signers.get()) != 1) {
        ERR_clear_error();
        return nullptr;
    }
    const X509* signer = sk_X509_value(signers.get(), 0);
    if (!canonical(p7.get(), p7s, signer)) {
        return nullptr;
    }
    for (const auto& certificate : trusted) {
        if (certificate.x509.get() == signer) {
            return &certificate;
        }
    }
    return nullptr;
}

} // namespace ksx::activator

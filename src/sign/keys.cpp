#include "sign/keys.hpp"

#include "sign/pkcs11_key.hpp"
#include "util/atomic_file.hpp"
#include "util/error.hpp"
#include "util/file_io.hpp"
#include "util/sha256.hpp"

#include <cerrno>
#include <cstdio>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>

namespace ksx::sign {

namespace fs = std::filesystem;

namespace {

// Key and certificate files are user input: unreadable ones are input errors (exit status 2).
std::string read_input(const fs::path& file) {
    try {
        return read_file(file);
    } catch (const Error& e) {
        throw InputError(e.what());
    }
}

using BigNumber = UniqueHandle<BIGNUM, BN_free>;

std::string octal(unsigned mode) {
    char buffer[8];
    std::snprintf(buffer, sizeof buffer, "%04o", mode & 07777);
    return buffer;
}

void add_extension(X509* certificate, int nid, const char* value) {
    X509V3_CTX context;
    X509V3_set_ctx_nodb(&context);
    X509V3_set_ctx(&context, certificate, certificate, nullptr, nullptr, 0);
    Extension extension(X509V3_EXT_conf_nid(nullptr, &context, nid, value));
    if (!extension || X509_add_ext(certificate, extension.get(), -1) != 1) {
        throw_openssl(std::string("failed to add certificate extension ") + OBJ_nid2sn(nid));
    }
}

} // namespace

std::string key_name(const fs::path& key) {
    return is_pkcs11_uri(key.native()) ? redacted_pkcs11_uri(key.native()) : key.string();
}

Pkey load_private_key(const fs::path& file) {
    auto text = read_input(file);
    auto bio = memory_bio(text);
    Pkey key(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
    if (!key) {
        throw InputError(openssl_message(file.string() + ": not a PEM private key"));
    }
    return key;
}

Certificate load_certificate(const fs::path& file) {
    auto text = read_input(file);
    auto bio = memory_bio(text);
    Certificate certificate(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
    if (!certificate) {
        ERR_clear_error();
        auto der = reinterpret_cast<const unsigned char*>(text.data());
        certificate.reset(d2i_X509(nullptr, &der, static_cast<long>(text.size())));
    }
    if (!certificate) {
        throw InputError(
            openssl_message(file.string() + ": not an X.509 certificate (PEM or DER)"));
    }
    return certificate;
}

Signer load_signer(const fs::path& key_file, const fs::path& cert_file) {
    Signer signer;
    if (is_pkcs11_uri(key_file.native())) {
        auto token_key = load_pkcs11_private_key(key_file.native());
        signer.token = std::move(token_key.engine);
        signer.key = std::move(token_key.key);
    } else {
        signer.key = load_private_key(key_file);
    }
    signer.certificate = load_certificate(cert_file);
    if (X509_check_private_key(signer.certificate.get(), signer.key.get()) != 1) {
        ERR_clear_error();
        throw InputError("signing key " + key_name(key_file) + " does not match certificate " +
                         cert_file.string());
    }
    return signer;
}

Signer shared_signer(const Signer& signer) {
    Signer shared;
    shared.token = signer.token;
    if (EVP_PKEY_up_ref(signer.key.get()) != 1) {
        throw_openssl("failed to share a signing key");
    }
    shared.key.reset(signer.key.get());
    if (X509_up_ref(signer.certificate.get()) != 1) {
        throw_openssl("failed to share a signing certificate");
    }
    shared.certificate.reset(signer.certificate.get());
    return shared;
}

std::optional<std::string> key_permission_warning(const fs::path& key_file) {
    if (is_pkcs11_uri(key_file.native())) {
        return std::nullopt; // the token guards it
    }
    struct stat st {};
    if (::stat(key_file.c_str(), &st) != 0) {
        throw InputError(errno_message("cannot read signing key " + key_file.string(), errno));
    }
    if ((st.st_mode & 0044) == 0) {
        return std::nullopt;
    }
    return "signing key " + key_file.string() + " is readable by " +
           ((st.st_mode & 0004) ? "others" : "its group") + " (mode " + octal(st.st_mode) +
           "); chmod 600 it";
}

std::string certificate_der(X509* certificate) {
    unsigned char* der = nullptr;
    int size = i2d_X509(certificate, &der);
    if (size <= 0) {
        throw_openssl("failed to encode a certificate");
    }
    std::string out(reinterpret_cast<char*>(der), static_cast<size_t>(size));
    OPENSSL_free(der);
    return out;
}

std::string certificate_pem(X509* certificate) {
    auto bio = output_bio();
    if (PEM_write_bio_X509(bio.get(), certificate) != 1) {
        throw_openssl("failed to encode a certificate");
    }
    return bio_contents(bio.get());
}

std::string certificate_fingerprint(X509* certificate) {
    return sha256_hex(certificate_der(certificate));
}

std::string certificate_subject(X509* certificate) {
    auto bio = output_bio();
    if (X509_NAME_print_ex(bio.get(), X509_get_subject_name(certificate), 0,
                           XN_FLAG_ONELINE & ~ASN1_STRFLGS_ESC_MSB & ~XN_FLAG_SPC_EQ) < 0) {
        throw_openssl("failed to print a certificate subject");
    }
    return bio_contents(bio.get());
}

Pkey generate_key(KeyAlgorithm algorithm) {
    EVP_PKEY* raw = algorithm == KeyAlgorithm::Rsa4096
                        ? EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", size_t{4096})
                        : EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256");
    if (raw == nullptr) {
        throw_openssl("failed to generate a key");
    }
    return Pkey(raw);
}

Certificate self_signed_certificate(EVP_PKEY* key, const std::string& common_name, int valid_days) {
    Certificate certificate(X509_new());
    if (!certificate || X509_set_version(certificate.get(), 2) != 1) {
        throw_openssl("failed to create a certificate");
    }
    // A random positive 127-bit serial number.
    unsigned char serial[16];
    if (RAND_bytes(serial, sizeof serial) != 1) {
        throw_openssl("failed to make a serial number");
    }
    serial[0] &= 0x7f;
    BigNumber number(BN_bin2bn(serial, sizeof serial, nullptr));
    if (!number ||
        BN_to_ASN1_INTEGER(number.get(), X509_get_serialNumber(certificate.get())) == nullptr) {
        throw_openssl("failed to set the serial number");
    }
    X509_NAME* name = X509_get_subject_name(certificate.get());
    if (X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
                                   reinterpret_cast<const unsigned char*>(common_name.c_str()), -1,
                                   -1, 0) != 1 ||
        X509_set_issuer_name(certificate.get(), name) != 1) {
        throw_openssl("failed to set the certificate name \"" + common_name + "\"");
    }
    if (X509_gmtime_adj(X509_getm_notBefore(certificate.get()), 0) == nullptr ||
        X509_time_adj_ex(X509_getm_notAfter(certificate.get()), valid_days, 0, nullptr) ==
            nullptr ||
        X509_set_pubkey(certificate.get(), key) != 1) {
        throw_openssl("failed to fill in the certificate");
    }
    add_extension(certificate.get(), NID_basic_constraints, "critical,CA:FALSE");
    add_extension(certificate.get(), NID_key_usage, "critical,digitalSignature");
    add_extension(certificate.get(), NID_ext_key_usage, "codeSigning");
    add_extension(certificate.get(), NID_subject_key_identifier, "hash");
    add_extension(certificate.get(), NID_authority_key_identifier, "keyid:always");
    if (X509_sign(certificate.get(), key, EVP_sha256()) <= 0) {
        throw_openssl("failed to self-sign the certificate");
    }
    return certificate;
}

KeygenResult generate_keys(const KeygenOptions& options) {
    fs::create_directories(options.out_dir);
    auto key = generate_key(options.algorithm);
    auto certificate = self_signed_certificate(key.get(), options.common_name, options.valid_days);

    auto bio = output_bio();
    if (PEM_write_bio_PrivateKey(bio.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr) !=
        1) {
        throw_openssl("failed to encode the private key");
    }
    KeygenResult result;
    result.key = options.out_dir / "key.pem";
    result.cert_pem = options.out_dir / "cert.pem";
    result.cert_der = options.out_dir / "cert.der";
    result.crt = options.out_dir / (options.name + ".crt");
    auto pem = certificate_pem(certificate.get());
    write_file_atomic(result.key, bio_contents(bio.get()), 0600);
    write_file_atomic(result.cert_pem, pem);
    write_file_atomic(result.cert_der, certificate_der(certificate.get()));
    write_file_atomic(result.crt, pem);
    result.fingerprint = certificate_fingerprint(certificate.get());
    return result;
}

} // namespace ksx::sign

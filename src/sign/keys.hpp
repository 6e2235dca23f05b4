// Signing keys and certificates: loading them, and making a new pair (`keygen`).
#pragma once

#include "sign/openssl_handles.hpp"

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace ksx::sign {

// A private key and the certificate that goes with it, as used for signing.
struct Signer {
    std::shared_ptr<void> token; // the PKCS#11 engine a token-held key needs, else empty
    Pkey key;
    Certificate certificate;
};

// Reads a PEM private key; throws InputError naming the file when it is unreadable or not a key.
Pkey load_private_key(const std::filesystem::path& file);

// How to name a key in messages: the file, or the URI with its PIN hidden.
std::string key_name(const std::filesystem::path& key);

// Reads an X.509 certificate in PEM or DER; throws InputError naming the file.
Certificate load_certificate(const std::filesystem::path& file);

// Loads a key (a PEM file, or a key held in a PKCS#11 token when `key_file` is a "pkcs11:"
// URI) and its certificate and checks that they belong together (InputError if not).
Signer load_signer(const std::filesystem::path& key_file, const std::filesystem::path& cert_file);

// Another handle on the same key and certificate (reference counted, nothing read again).
Signer shared_signer(const Signer& signer);

// A warning when `key_file` can be read by its group or by others, else nothing (always
// nothing for a PKCS#11 URI: the token guards the key).
std::optional<std::string> key_permission_warning(const std::filesystem::path& key_file);

// SHA-256 of the certificate's DER encoding, lower-case hex.
std::string certificate_fingerprint(X509* certificate);

// The subject as one line ("CN=example").
std::string certificate_subject(X509* certificate);

// The certificate's DER and PEM encodings.
std::string certificate_der(X509* certificate);
std::string certificate_pem(X509* certificate);

enum class KeyAlgorithm { Rsa4096, EcdsaP256 };

struct KeygenOptions {
    std::filesystem::path out_dir;
    std::string common_name = "kmod-sysext signing key";
    std::string name = "kmod-sysext"; // <name>.crt, the copy for /etc/verity.d
    KeyAlgorithm algorithm = KeyAlgorithm::Rsa4096;
    int valid_days = 3650;
};

struct KeygenResult {
    std::filesystem::path key;      // key.pem, mode 0600
    std::filesystem::path cert_pem; // cert.pem
    std::filesystem::path cert_der; // cert.der
    std::filesystem::path crt;      // <name>.crt (PEM)
    std::string fingerprint;        // SHA-256 of the DER certificate
};

// A new key and a self-signed X.509 v3 certificate fit for module signing and for verity:
// CA:FALSE, keyUsage digitalSignature, extendedKeyUsage codeSigning, a subject key
// identifier. Every file is written atomically.
KeygenResult generate_keys(const KeygenOptions& options);

// A fresh key of that algorithm.
Pkey generate_key(KeyAlgorithm algorithm);

// A self-signed certificate for `key` as generate_keys makes it.
Certificate self_signed_certificate(EVP_PKEY* key, const std::string& common_name, int valid_days);

} // namespace ksx::sign

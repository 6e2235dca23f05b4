// What enrolling a signing certificate as a Machine Owner Key (shim's MokList) takes: the DER
// certificate, a one-time password for MokManager and its hash for `mokutil --hash-file`.
#pragma once

#include <openssl/x509.h>
#include <string>

namespace ksx::sign {

struct MokCertificate {
    std::string der;              // the certificate, DER (what `mokutil --import` reads)
    std::string sha1_fingerprint; // "ab:cd:..", as `mokutil --list-enrolled` prints it
};

// A password for MokManager: 12 characters from a-z and 2-9 without look-alikes (MokManager takes
// at most 16, typed on the console), from OpenSSL's random generator.
std::string one_time_password();

// `password` hashed as `mokutil --generate-hash` does (SHA-512 crypt, random 16-character salt).
std::string mok_password_hash(const std::string& password);

// The certificate as MokList holds it.
MokCertificate mok_certificate(X509* certificate);

} // namespace ksx::sign

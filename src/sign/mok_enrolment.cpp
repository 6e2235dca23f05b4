#include "sign/mok_enrolment.hpp"

#include "sign/keys.hpp"
#include "util/error.hpp"

#include <crypt.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

namespace ksx::sign {

namespace {

// `count` characters of `alphabet`, uniformly (rejection of the bytes past a multiple of it).
std::string random_text(std::string_view alphabet, std::size_t count) {
    std::string out;
    const unsigned limit = 256 - 256 % alphabet.size();
    while (out.size() < count) {
        unsigned char bytes[64];
        if (RAND_bytes(bytes, sizeof bytes) != 1) {
            throw Error("the random generator failed");
        }
        for (unsigned char byte : bytes) {
            if (byte < limit && out.size() < count) {
                out += alphabet[byte % alphabet.size()];
            }
        }
    }
    return out;
}

} // namespace

std::string one_time_password() {
    return random_text("abcdefghijkmnpqrstuvwxyz23456789", 12);
}

std::string mok_password_hash(const std::string& password) {
    std::string setting =
        "$6$" + random_text("./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz", 16);
    crypt_data data{};
    const char* hash = crypt_r(password.c_str(), setting.c_str(), &data);
    if (hash == nullptr || hash[0] != '$') {
        throw Error("cannot hash the MOK password with SHA-512 crypt");
    }
    return hash;
}

MokCertificate mok_certificate(X509* certificate) {
    MokCertificate enrolment;
    enrolment.der = certificate_der(certificate);
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned length = 0;
    if (X509_digest(certificate, EVP_sha1(), digest, &length) != 1) {
        throw Error("cannot compute the certificate's SHA-1 fingerprint");
    }
    static constexpr char hex[] = "0123456789abcdef";
    for (unsigned i = 0; i < length; ++i) {
        enrolment.sha1_fingerprint += (i ? ":" : "");
        enrolment.sha1_fingerprint += hex[digest[i] >> 4];
        enrolment.sha1_fingerprint += hex[digest[i] & 15];
    }
    return enrolment;
}

} // namespace ksx::sign

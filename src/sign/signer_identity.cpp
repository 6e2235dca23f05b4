#include "sign/signer_identity.hpp"

#include "util/error.hpp"

#include <cctype>
#include <openssl/err.h>
#include <openssl/objects.h>

namespace ksx::sign {

namespace {

// Names come from the signature, so a name that OpenSSL cannot encode or print is bad input.
[[noreturn]] void bad_name(const std::string& what) {
    ERR_clear_error();
    throw InputError(what);
}

std::string der_of(const X509_NAME* name) {
    const unsigned char* bytes = nullptr;
    size_t size = 0;
    if (X509_NAME_get0_der(name, &bytes, &size) != 1) {
        bad_name("signer's issuer name cannot be encoded");
    }
    return std::string(reinterpret_cast<const char*>(bytes), size);
}

std::string one_line(const X509_NAME* name) {
    auto bio = output_bio();
    if (X509_NAME_print_ex(bio.get(), name, 0,
                           XN_FLAG_ONELINE & ~ASN1_STRFLGS_ESC_MSB & ~XN_FLAG_SPC_EQ) < 0) {
        bad_name("signer's issuer name cannot be printed");
    }
    return bio_contents(bio.get());
}

std::string common_name(const X509_NAME* name) {
    int index = X509_NAME_get_index_by_NID(name, NID_commonName, -1);
    if (index < 0) {
        return {};
    }
    const ASN1_STRING* value = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, index));
    unsigned char* utf8 = nullptr;
    int size = ASN1_STRING_to_UTF8(&utf8, value);
    if (size < 0) {
        bad_name("signer's issuer common name is not a valid string");
    }
    std::string out(reinterpret_cast<char*>(utf8), static_cast<size_t>(size));
    OPENSSL_free(utf8);
    return out;
}

// The magnitude's bytes as modinfo prints a key id ("3F:0A:..."), "-" first when negative.
std::string serial_hex(const ASN1_INTEGER* serial) {
    static constexpr char digits[] = "0123456789ABCDEF";
    std::string out = ASN1_STRING_type(serial) == V_ASN1_NEG_INTEGER ? "-" : "";
    const unsigned char* bytes = ASN1_STRING_get0_data(serial);
    for (int i = 0; i < ASN1_STRING_length(serial); ++i) {
        if (i > 0) {
            out += ':';
        }
        out += digits[bytes[i] >> 4];
        out += digits[bytes[i] & 0x0f];
    }
    return out;
}

} // namespace

SignerIdentity signer_identity(PKCS7* p7) {
    if (PKCS7_type_is_signed(p7) == 0) {
        throw InputError("not a PKCS#7 signedData");
    }
    STACK_OF(PKCS7_SIGNER_INFO)* infos = p7->d.sign->signer_info;
    if (sk_PKCS7_SIGNER_INFO_num(infos) != 1) {
        throw InputError("signature does not have exactly one signer");
    }
    PKCS7_SIGNER_INFO* info = sk_PKCS7_SIGNER_INFO_value(infos, 0);
    if (info->issuer_and_serial == nullptr || info->issuer_and_serial->issuer == nullptr ||
        info->issuer_and_serial->serial == nullptr) {
        throw InputError("signature does not name its signer by issuer and serial number");
    }
    const X509_NAME* issuer = info->issuer_and_serial->issuer;
    SignerIdentity identity;
    identity.issuer = one_line(issuer);
    identity.common_name = common_name(issuer);
    if (identity.common_name.empty()) {
        identity.common_name = identity.issuer;
    }
    identity.serial = serial_hex(info->issuer_and_serial->serial);
    const ASN1_OBJECT* digest = nullptr;
    X509_ALGOR_get0(&digest, nullptr, nullptr, info->digest_alg);
    const char* name = OBJ_nid2sn(OBJ_obj2nid(digest));
    identity.hash = name != nullptr ? name : "unknown";
    // OpenSSL names the SHA-2 digests in upper case ("SHA256"); modinfo uses lower case.
    for (auto& c : identity.hash) {
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    identity.issuer_der = der_of(issuer);
    return identity;
}

SignerIdentity signer_identity(std::string_view der) {
    auto bytes = reinterpret_cast<const unsigned char*>(der.data());
    Pkcs7 p7(d2i_PKCS7(nullptr, &bytes, static_cast<long>(der.size())));
    if (!p7 || bytes != reinterpret_cast<const unsigned char*>(der.data() + der.size())) {
        ERR_clear_error();
        throw InputError("not a DER PKCS#7 signature");
    }
    return signer_identity(p7.get());
}

X509* certificate_of(const SignerIdentity& signer, const std::vector<Certificate>& certificates) {
    for (const auto& certificate : certificates) {
        if (der_of(X509_get_issuer_name(certificate.get())) == signer.issuer_der &&
            serial_hex(X509_get0_serialNumber(certificate.get())) == signer.serial) {
            return certificate.get();
        }
    }
    return nullptr;
}

} // namespace ksx::sign

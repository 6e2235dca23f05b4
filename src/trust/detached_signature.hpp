// The strict check of a detached PKCS#7 signature, the form of both module signatures and root
// hash signatures: as strict as kmod-sysext (and `openssl smime -sign -nocerts -noattr
// -binary`, and the kernel's sign-file) writes it, so that no changed byte goes unnoticed.
#pragma once

#include <openssl/x509.h>
#include <string>
#include <string_view>
#include <vector>

namespace ksx::trust {

struct SignatureCheck {
    X509* signer = nullptr;   // the trusted certificate that made the signature; nullptr: invalid
    bool well_formed = false; // the signature's form passed, whatever its signer
    std::string problem;      // why it is not valid; empty when it is
};

// Checks `der` over `content`: canonical DER of a signedData, versions 1, detached id-data
// content, no certificates, CRLs or attributes, one signer named by issuer (byte for byte) and
// serial that is one of `trusted` (trusted as it is, no chain, as the kernel and systemd do),
// a sha224/256/384/512 digest used consistently, the signature algorithm a signer with that
// key writes (rsaEncryption, or ECDSA with the digest), and a signature that verifies.
SignatureCheck check_detached_signature(std::string_view der, std::string_view content,
                                        const std::vector<X509*>& trusted);

} // namespace ksx::trust

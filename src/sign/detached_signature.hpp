// Checking a detached PKCS#7 signature (the form of both module signatures and root hash
// signatures) as strictly as kmod-sysext writes it, so that no changed byte goes unnoticed.
#pragma once

#include "sign/keys.hpp"

#include <string>
#include <string_view>
#include <vector>

namespace ksx::sign {

struct SignatureCheck {
    bool valid = false;
    std::string detail;      // "signed by <subject>" or why not
    std::string fingerprint; // SHA-256 of the signer's DER certificate, when valid
};

// Checks `der` over `content`: canonical DER of a signedData, versions 1, detached id-data
// content, no certificates, CRLs or attributes, one signer named by issuer and serial that is
// byte for byte one of `trusted` (trusted as it is, no chain, as the kernel and systemd do),
// a known digest used consistently, and a signature that verifies.
SignatureCheck check_detached_signature(std::string_view der, std::string_view content,
                                        const std::vector<Certificate>& trusted);

} // namespace ksx::sign

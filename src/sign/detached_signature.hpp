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

// Checks `der` over `content` with trust/detached_signature.hpp's check (the activator's too),
// and names the signer by subject and certificate fingerprint.
SignatureCheck check_detached_signature(std::string_view der, std::string_view content,
                                        const std::vector<Certificate>& trusted);

} // namespace ksx::sign

// The signature systemd checks before it sets up dm-verity: DER PKCS#7, detached, over the
// lower-case hex root hash without a newline, no certificates and no signed attributes (as
// `openssl smime -sign -nocerts -noattr -binary -outform DER` writes it).
#pragma once

#include "sign/keys.hpp"

#include <string>
#include <string_view>
#include <vector>

namespace ksx::sign {

// The DER signature of `root_hash_hex`.
std::string sign_root_hash(std::string_view root_hash_hex, const Signer& signer);

struct RootHashSignatureCheck {
    bool valid = false;
    std::string detail;      // "signed by <subject>" or why not
    std::string fingerprint; // SHA-256 of the signer's certificate, when valid
};

// Checks `der` over `root_hash_hex` against `trusted` the way systemd's userspace check does:
// the signer must be one of the certificates, which are trusted as they are (no chain).
RootHashSignatureCheck check_root_hash_signature(std::string_view der,
                                                 std::string_view root_hash_hex,
                                                 const std::vector<Certificate>& trusted);

} // namespace ksx::sign

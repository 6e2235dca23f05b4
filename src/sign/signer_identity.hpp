// Who made a detached PKCS#7 signature, as far as the signature itself tells: module
// signatures and root hash signatures carry no certificate, only the issuer and serial number
// of the signer's certificate and the digest used.
#pragma once

#include "sign/keys.hpp"

#include <string>
#include <string_view>
#include <vector>

namespace ksx::sign {

struct SignerIdentity {
    std::string issuer;      // the signer certificate's issuer, one line ("CN=example")
    std::string common_name; // the issuer's CN (modinfo's "signer"); the issuer if it has none
    std::string serial;      // upper-case hex bytes joined by ':' (modinfo's "sig_key")
    std::string hash;        // the digest, "sha256" (modinfo's "sig_hashalgo")
    std::string issuer_der;  // the issuer name's DER, for matching certificates
};

// The signer of `p7`, a signedData with exactly one signer; throws InputError otherwise.
SignerIdentity signer_identity(PKCS7* p7);

// Parses a DER PKCS#7 signature (module signature or .roothash.p7s) and returns its signer;
// throws InputError when it is not a signedData with one signer.
SignerIdentity signer_identity(std::string_view der);

// The certificate among `certificates` whose issuer and serial number the identity names, or
// nullptr. This only names the certificate; check_detached_signature checks the signature.
X509* certificate_of(const SignerIdentity& signer, const std::vector<Certificate>& certificates);

} // namespace ksx::sign

#include "sign/detached_signature.hpp"

#include "trust/detached_signature.hpp"

namespace ksx::sign {

SignatureCheck check_detached_signature(std::string_view der, std::string_view content,
                                        const std::vector<Certificate>& trusted) {
    std::vector<X509*> certificates;
    for (const auto& certificate : trusted) {
        certificates.push_back(certificate.get());
    }
    auto check = trust::check_detached_signature(der, content, certificates);
    if (check.signer != nullptr) {
        return {true, "signed by " + certificate_subject(check.signer),
                certificate_fingerprint(check.signer)};
    }
    if (check.well_formed && trusted.empty()) {
        return {false, "signature present, signer not checked (no --cert given)", {}};
    }
    return {false, check.problem, {}};
}

} // namespace ksx::sign

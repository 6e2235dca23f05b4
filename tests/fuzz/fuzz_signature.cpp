// Detached PKCS#7 signatures (root hash .p7s, module signatures) against the certificates in
// keys/: the strict check both sides share (trust/), the activator's and the builder's callers
// of it, and module signature blocks. The input is a DER signature over kContent, and also a
// module with an appended signature, and also certificates (PEM or DER).
#include "activator/signature.hpp"
#include "fuzz_support.hpp"
#include "sign/detached_signature.hpp"
#include "sign/keys.hpp"
#include "sign/module_signature.hpp"
#include "sign/roothash_signature.hpp"
#include "trust/detached_signature.hpp"

#include <vector>

namespace {

// What the seeds' signatures sign: a root hash as hex, the way `build` signs one.
constexpr std::string_view kContent =
    "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";

struct Trusted {
    std::vector<ksx::activator::Certificate> activator;
    std::vector<ksx::sign::Certificate> builder;
    std::vector<X509*> raw;
};

const Trusted& trusted() {
    static const Trusted certificates = [] {
        Trusted t;
        for (const char* name : {"rsa.crt", "ec.crt"}) {
            auto file = std::filesystem::path(KSX_FUZZ_KEYS) / name;
            for (auto& certificate : ksx::activator::read_certificates(file)) {
                t.activator.push_back(std::move(certificate));
            }
            t.builder.push_back(ksx::sign::load_certificate(file));
        }
        for (const auto& certificate : t.builder) {
            t.raw.push_back(certificate.get());
        }
        return t;
    }();
    return certificates;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    auto bytes = ksx::fuzz::as_text(data, size);
    const auto& certificates = trusted();
    ksx::fuzz::refusals_expected(
        [&] { ksx::trust::check_detached_signature(bytes, kContent, certificates.raw); });
    ksx::fuzz::refusals_expected(
        [&] { ksx::activator::verify_signature(bytes, kContent, certificates.activator); });
    ksx::fuzz::refusals_expected(
        [&] { ksx::sign::check_root_hash_signature(bytes, kContent, certificates.builder); });
    ksx::fuzz::refusals_expected(
        [&] { ksx::sign::check_module_signature(bytes, certificates.builder); });
    ksx::fuzz::refusals_expected([&] { ksx::sign::module_signer(bytes); });
    ksx::fuzz::refusals_expected([&] { ksx::activator::parse_certificates(bytes, "fuzz.crt"); });
    return 0;
}

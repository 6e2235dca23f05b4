#include "activator/module_signer.hpp"

#include "activator/trust_policy.hpp"

namespace ksx::activator {

std::optional<ModuleSigner> module_signer(const Context& context, KernelModules& modules,
                                          const contract::LoadOrder& order,
                                          const KernelTrust& kernel) {
    if (order.modules.empty()) {
        return std::nullopt;
    }
    const auto& entry = order.modules.front();
    auto info = modules.signature_of(context.on_disk(entry.path));
    if (!info.readable) {
        return std::nullopt;
    }
    ModuleSigner signer{entry.name, info.is_signed, info.signer, info.key, {}};
    if (!info.is_signed) {
        signer.check.trust = kernel.keys_known ? SignerTrust::untrusted : SignerTrust::unknown;
        return signer;
    }
    // Certificates only help to name the key; the policy's own messages are `select`'s to give.
    Log quiet([](const std::string&) {});
    auto certificates = read_trust_policy(context, quiet).certificates;
    signer.check = check_signer(kernel, info.signer, info.key, certificates);
    return signer;
}

std::optional<std::string> refusal_forecast(const KernelTrust& kernel, const std::string& extension,
                                            const ModuleSigner& signer) {
    if (!kernel.enforces_module_signatures() || signer.check.trust != SignerTrust::untrusted) {
        return std::nullopt;
    }
    return enrol_hint(kernel, extension, signer.is_signed ? signer.signer : std::string(),
                      signer.serial);
}

} // namespace ksx::activator

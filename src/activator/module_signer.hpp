// Whether the running kernel trusts the key that signed a merged extension's modules: for
// `status`, and for `load` to say so once before the kernel refuses them.
#pragma once

#include "activator/context.hpp"
#include "activator/kernel_modules.hpp"
#include "activator/kernel_trust.hpp"
#include "contract/modules_load.hpp"

#include <optional>
#include <string>

namespace ksx::activator {

struct ModuleSigner {
    std::string module; // the module looked at: the first of the extension's modules.load
    bool is_signed = false;
    std::string signer; // issuer CN of the signing certificate
    std::string serial; // "12:AB:.."
    SignerCheck check;
};

// The signer of the first module of `order` and whether `kernel` trusts it, against the node's
// certificates (for their key identifiers); nullopt when the module file cannot be read.
std::optional<ModuleSigner> module_signer(const Context& context, KernelModules& modules,
                                          const contract::LoadOrder& order,
                                          const KernelTrust& kernel);

// When `kernel` enforces module signatures and does not trust `signer` (or the modules carry no
// signature): the one line that says so, naming the key and how to enrol it. nullopt otherwise,
// also when trust is unknown (the kernel then decides alone).
std::optional<std::string> refusal_forecast(const KernelTrust& kernel, const std::string& extension,
                                            const ModuleSigner& signer);

} // namespace ksx::activator

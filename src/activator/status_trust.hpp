// The Secure Boot part of `status`: what the kernel enforces and whether it trusts the key that
// signed each merged extension's modules.
#pragma once

#include "activator/context.hpp"
#include "activator/kernel_modules.hpp"
#include "activator/kernel_trust.hpp"
#include "activator/module_signer.hpp"

#include <optional>
#include <string>

namespace ksx::activator {

struct Status;

// Fills status.kernel_trust and, with `modules` (libkmod reads the signatures), each merged
// extension's module_signer.
void add_trust_status(const Context& context, KernelModules* modules, Status& status);

// "secure boot: on, lockdown: integrity, module.sig_enforce: no (signatures enforced)\n"
std::string format_kernel_trust_text(const KernelTrust& kernel);
// "  module signer: \"CN\" (serial ..), trusted by the kernel (.machine)\n"
std::string format_module_signer_text(const ModuleSigner& signer);

// {"secure_boot":true,"lockdown":"integrity","sig_enforce":false,"enforced":true,...}
std::string format_kernel_trust_json(const std::optional<KernelTrust>& kernel);
// {"module":"..","signed":true,"signer":"..","serial":"..","trust":"trusted","keyring":".machine"}
std::string format_module_signer_json(const std::optional<ModuleSigner>& signer);

} // namespace ksx::activator

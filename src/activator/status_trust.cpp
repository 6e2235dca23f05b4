#include "activator/status_trust.hpp"

#include "activator/json.hpp"
#include "activator/load.hpp"
#include "activator/printable.hpp"
#include "activator/status.hpp"
#include "util/message.hpp"

namespace ksx::activator {

namespace {

const char* yes_no(const std::optional<bool>& value) {
    return value ? (*value ? "yes" : "no") : "unknown";
}

const char* json_bool(const std::optional<bool>& value) {
    return value ? (*value ? "true" : "false") : "null";
}

} // namespace

void add_trust_status(const Context& context, KernelModules* modules, Status& status) {
    status.kernel_trust = read_kernel_trust(context, read_keyring_members);
    for (auto& extension : status.extensions) {
        if (modules == nullptr || !extension.merged || extension.modules.empty()) {
            continue;
        }
        try {
            auto order = read_load_order(context, extension.name);
            extension.module_signer = module_signer(context, *modules, order, *status.kernel_trust);
        } catch (const std::exception&) {
            // gather_status has reported why the modules cannot be listed.
        }
    }
}

std::string format_kernel_trust_text(const KernelTrust& kernel) {
    std::string out = message(
        "secure boot: {}\nlockdown: {}\nmodule.sig_enforce: {}\nmodule signatures: {}",
        {yes_no(kernel.secure_boot), (kernel.lockdown.empty() ? "unknown" : kernel.lockdown),
         yes_no(kernel.sig_enforce),
         (kernel.enforces_module_signatures() ? "enforced" : "not enforced")});
    if (!kernel.keys_known) {
        out += "\ntrusted keys: unknown (/proc/keys cannot be read)";
    }
    out += '\n';
    return out;
}

std::string format_module_signer_text(const ModuleSigner& signer) {
    std::string out = "  module signer: ";
    if (!signer.is_signed) {
        append(out, "none ({} is not signed)", {printable(signer.module)});
    } else {
        append(out, "\"{}\" (serial {}), ", {printable(signer.signer), printable(signer.serial)});
        switch (signer.check.trust) {
        case SignerTrust::trusted:
            append(out, "trusted by the kernel ({})", {printable(signer.check.keyring)});
            break;
        case SignerTrust::platform:
            out += "only in the firmware's db (.platform)";
            break;
        case SignerTrust::untrusted:
            out += "not trusted by the kernel (enrol it as a Machine Owner Key)";
            break;
        case SignerTrust::unknown:
            out += "trust unknown";
            break;
        }
    }
    out += '\n';
    return out;
}

std::string format_kernel_trust_json(const std::optional<KernelTrust>& kernel) {
    if (!kernel) {
        return "null";
    }
    std::string out = message(
        "{\"secure_boot\":{},\"lockdown\":{},\"sig_enforce\":{},\"enforced\":{},\"trusted_keys\":",
        {json_bool(kernel->secure_boot), json_or_null(kernel->lockdown),
         json_bool(kernel->sig_enforce), json_bool(kernel->enforces_module_signatures())});
    if (!kernel->keys_known) {
        out += "null}";
        return out;
    }
    out += "[";
    for (std::size_t i = 0; i < kernel->keys.size(); ++i) {
        append(out, "{}{\"keyring\":{},\"key\":{}}",
               {(i ? "," : ""), json_string(kernel->keys[i].keyring),
                json_string(kernel->keys[i].description)});
    }
    out += "]}";
    return out;
}

std::string format_module_signer_json(const std::optional<ModuleSigner>& signer) {
    if (!signer) {
        return "null";
    }
    return message(
        "{\"module\":{},\"signed\":{},\"signer\":{},\"serial\":{},\"trust\":{},\"keyring\":{}}",
        {json_string(signer->module), json_bool(signer->is_signed), json_or_null(signer->signer),
         json_or_null(signer->serial), json_string(signer_trust_name(signer->check.trust)),
         json_or_null(signer->check.keyring)});
}

} // namespace ksx::activator

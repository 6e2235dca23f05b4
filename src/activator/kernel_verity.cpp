#include "activator/kernel_verity.hpp"

#include "activator/root_files.hpp"
#include "activator/signature.hpp"
#include "util/lines.hpp"

namespace ksx::activator {

namespace {

std::optional<std::string> try_read(const Context& context, const char* path) {
    try {
        return read_beneath(context, path, kMaxSmallFile);
    } catch (const std::exception&) {
        return std::nullopt;
    }
}

bool is_true(std::string_view value) {
    return value == "1" || value == "Y" || value == "y";
}

} // namespace

bool parse_require_signatures(std::string_view cmdline,
                              const std::optional<std::string>& parameter) {
    if (parameter) {
        return !parameter->empty() && is_true(std::string_view(*parameter).substr(0, 1));
    }
    bool required = false;
    // The last one counts, as for the kernel; "-" and "_" are the same in parameter names.
    for (auto word = take_word(cmdline); !word.empty(); word = take_word(cmdline)) {
        for (std::string_view name :
             {"dm_verity.require_signatures=", "dm-verity.require_signatures="}) {
            if (word.starts_with(name)) {
                required = is_true(word.substr(name.size()));
            }
        }
    }
    return required;
}

KernelVerity kernel_verity(const Context& context, const std::filesystem::path& signer_file,
                           const KeyringReader& read_keyring) {
    KernelVerity verity;
    verity.signatures_required =
        parse_require_signatures(try_read(context, "/proc/cmdline").value_or(""),
                                 try_read(context, "/sys/module/dm_verity/parameters/"
                                                   "require_signatures"));
    if (signer_file.empty()) {
        return verity;
    }
    auto kernel = read_kernel_trust(context, read_keyring);
    try {
        for (const auto& certificate : read_certificates(signer_file)) {
            verity.signer_keyring = keyring_of_certificate(kernel, certificate.x509.get());
            if (!verity.signer_keyring.empty()) {
                break;
            }
        }
    } catch (const std::exception&) {
        // The certificate was read a moment ago to verify the image; gone now, it names no key.
    }
    return verity;
}

} // namespace ksx::activator

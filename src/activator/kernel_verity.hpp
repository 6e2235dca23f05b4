// Whether the kernel checks an image's dm-verity root hash signature itself: dm-verity's
// require_signatures, and whether the image's signer is in a keyring dm-verity uses.
#pragma once

#include "activator/context.hpp"
#include "activator/kernel_trust.hpp"

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

namespace ksx::activator {

struct KernelVerity {
    bool signatures_required = false; // dm_verity.require_signatures
    std::string signer_keyring;       // the keyring holding the signer's key; empty: none
};

// require_signatures from the module's parameter (`parameter`: the content of
// /sys/module/dm_verity/parameters/require_signatures, when dm_verity is loaded) or, before the
// module is loaded, from the kernel command line.
bool parse_require_signatures(std::string_view cmdline,
                              const std::optional<std::string>& parameter);

// For an image verified with the certificate in `signer_file` (empty: not verified): reads
// /proc/cmdline, the parameter and the keyrings beneath context.root.
KernelVerity kernel_verity(const Context& context, const std::filesystem::path& signer_file,
                           const KeyringReader& read_keyring);

} // namespace ksx::activator

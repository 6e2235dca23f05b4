// What the dm-verity sidecars next to an image say, read without checking them (`inspect`
// shows this; `verify` checks it).
#pragma once

#include "sign/image_signature.hpp"
#include "sign/signer_identity.hpp"

#include <filesystem>
#include <optional>
#include <string>

namespace ksx::sign {

struct SidecarInfo {
    Sidecars paths;
    bool has_verity = false;
    std::optional<std::string> root_hash; // the .roothash's text without trailing blanks
    std::optional<SignerIdentity> signer; // the signer the .roothash.p7s names
    std::string signature_problem;        // why the .roothash.p7s could not be read
};

// The sidecars of `image` (NAME.raw: NAME.verity, NAME.roothash, NAME.roothash.p7s); nothing
// when none of them exists. Throws Error when one exists but cannot be read.
std::optional<SidecarInfo> read_sidecars(const std::filesystem::path& image);

} // namespace ksx::sign

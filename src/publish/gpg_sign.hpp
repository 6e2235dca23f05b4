// Detached OpenPGP signatures made by gpg, as systemd-sysupdate verifies SHA256SUMS.gpg, and
// the public key that checks them.
#pragma once

#include <filesystem>
#include <string>

namespace ksx::publish {

// Signs `file` with `key` (an id or fingerprint) into `signature` (binary, detached).
// `homedir` is the GnuPG home; gpg's default when empty. Throws Error when gpg fails.
void gpg_detach_sign(const std::filesystem::path& file, const std::filesystem::path& signature,
                     const std::string& key, const std::filesystem::path& homedir);

// The public part of `key` as a binary OpenPGP keyring (`gpg --export`). Throws Error when gpg
// fails or knows no such key.
std::string gpg_public_keyring(const std::string& key, const std::filesystem::path& homedir);

} // namespace ksx::publish

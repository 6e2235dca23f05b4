// The dm-verity sidecars of an image, named so systemd-dissect and systemd-sysext find them:
// for NAME.raw, NAME.verity (hash tree), NAME.roothash (hex + newline) and
// NAME.roothash.p7s (DER PKCS#7 over the hex root hash).
#pragma once

#include "sign/keys.hpp"

#include <filesystem>
#include <string>
#include <string_view>

namespace ksx::sign {

struct Sidecars {
    std::filesystem::path verity;
    std::filesystem::path roothash;
    std::filesystem::path signature;
};

// The sidecar paths of `image` (its ".raw" suffix replaced).
Sidecars sidecar_paths(const std::filesystem::path& image);

struct SignedImage {
    std::string root_hash; // hex
    Sidecars sidecars;
};

// Writes the three sidecars of `image`, each atomically. `image_sha256_hex` is the image's
// SHA-256 (the verity salt; the UUID is derived from it).
SignedImage sign_image(const std::filesystem::path& image, std::string_view image_sha256_hex,
                       const Signer& signer, unsigned threads);

} // namespace ksx::sign

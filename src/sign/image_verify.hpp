// `kmod-sysext verify`: every check of a signed image, each reported on its own.
#pragma once

#include "sign/keys.hpp"

#include <filesystem>
#include <functional>
#include <string>
#include <vector>

namespace ksx::sign {

// Read access to the files inside an image (the squashfs reader in the CLI); both may throw.
struct ImageContents {
    // Paths of the regular files, relative ("usr/lib/...").
    std::function<std::vector<std::string>(const std::filesystem::path& image)> list;
    std::function<std::string(const std::filesystem::path& image, const std::string& path)> read;
};

struct Check {
    std::string name; // "verity", "roothash", "signature", "extension-release", "module PATH"
    bool ok = false;
    std::string detail; // what was found
};

struct VerifyReport {
    std::vector<Check> checks;
    std::string root_hash; // computed from the data, hex; empty if it could not be
    bool ok() const;
};

// Checks `image` (which must be readable: InputError otherwise) and its sidecars: the verity
// tree against the data, the .roothash against the tree, the .roothash.p7s against the root
// hash and `trusted`, every module's appended signature against `trusted`, and that
// extension-release agrees with the file name and the module directory. With no trusted
// certificates the signature checks fail ("signer not checked").
VerifyReport verify_image(const std::filesystem::path& image, const ImageContents& contents,
                          const std::vector<Certificate>& trusted, unsigned threads);

} // namespace ksx::sign

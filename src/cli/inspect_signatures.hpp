// The signing part of `kmod-sysext inspect`: the root hash and its signer from the sidecars
// next to the image, and the signer of every module's appended signature (as modinfo shows
// them), each named after the matching certificate when `--cert` gives it.
#pragma once

#include "image/squashfs_reader.hpp"
#include "sign/keys.hpp"

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace ksx::cli {

// {"root_hash", "verity", "signature": {...} | null} or null when the image has no sidecars.
nlohmann::json inspect_verity(const std::string& image,
                              const std::vector<sign::Certificate>& certificates);

// One {"path", "signed", "signer", "sig_key", "sig_hashalgo", "issuer", "certificate"} per
// module file of the image (.ko, .ko.xz, .ko.zst under usr/lib/modules), in path order.
nlohmann::json inspect_module_signatures(const std::string& image,
                                         const std::vector<image::ImageEntry>& entries,
                                         const std::vector<sign::Certificate>& certificates);

// The text form of both, for `inspect` without --json.
void print_signatures(const nlohmann::json& verity, const nlohmann::json& modules);

} // namespace ksx::cli

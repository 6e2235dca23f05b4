// The signing part of `kmod-sysext inspect`: the root hash and its signer from the sidecars
// next to the image, and the signer of every module's appended signature (as modinfo shows
// them), each named after the matching certificate when `--cert` gives it.
#pragma once

#include "pack/image_source.hpp"
#include "sign/keys.hpp"

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace ksx::cli {

// {"format", "root_hash", "verity", "signature": {...} | null}: from the sidecars of a
// squashfs (null when it has none), or from the partitions of a DDI.
nlohmann::json inspect_verity(const std::string& image, const pack::ImageSource& source,
                              const std::vector<sign::Certificate>& certificates);

// One {"path", "signed", "signer", "sig_key", "sig_hashalgo", "issuer", "certificate"} per
// module file of the image (.ko, .ko.xz, .ko.zst under usr/lib/modules), in path order.
nlohmann::json inspect_module_signatures(const pack::ImageSource& source,
                                         const std::vector<sign::Certificate>& certificates);

// The text form of both, for `inspect` without --json.
void print_signatures(const nlohmann::json& verity, const nlohmann::json& modules);

} // namespace ksx::cli

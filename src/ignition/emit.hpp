// A NodeConfig as Ignition 3.3.0 JSON, and as the Butane config that stands for it.
#pragma once

#include "ignition/node_config.hpp"

#include <string>

namespace ksx::ignition {

enum class Variant { Flatcar, Fcos };

// "flatcar" or "fcos"; InputError for anything else.
Variant parse_variant(const std::string& text);

// Ignition spec 3.3.0: storage.directories, storage.files (remote files with
// verification.hash "sha256-<hex>", inline ones as data: URLs) and systemd.units.
std::string to_ignition(const NodeConfig& config);

// Butane YAML (`variant: flatcar`, version 1.0.0, or `variant: fcos`, version 1.4.0; both
// translate to Ignition 3.3.0) with the same content; inline files as literal blocks.
std::string to_butane(const NodeConfig& config, Variant variant);

// "data:," followed by `text` percent-encoded (RFC 2397), as Ignition takes inline contents.
std::string data_url(const std::string& text);

} // namespace ksx::ignition

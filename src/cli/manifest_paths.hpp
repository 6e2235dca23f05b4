// `--allow-path DIR`: what the user lets a manifest's local paths reach beyond its directory.
#pragma once

#include "manifest/manifest.hpp"

#include <CLI/CLI.hpp>
#include <string>
#include <vector>

namespace ksx::cli {

// Adds the repeatable `--allow-path DIR` option (an existing directory) to `app`.
void add_allow_path_option(CLI::App& app, std::vector<std::string>& dirs);

// The options that load a manifest with those directories allowed.
manifest::LoadOptions load_options(const std::vector<std::string>& allowed_dirs);

} // namespace ksx::cli

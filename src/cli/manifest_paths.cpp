#include "cli/manifest_paths.hpp"

namespace ksx::cli {

void add_allow_path_option(CLI::App& app, std::vector<std::string>& dirs) {
    app.add_option("--allow-path", dirs,
                   "Let the manifest's local paths (sources, patches, files, containers, keys) "
                   "lead into this directory too; by default they must stay inside the "
                   "manifest's directory; repeatable")
        ->check(CLI::ExistingDirectory);
}

manifest::LoadOptions load_options(const std::vector<std::string>& allowed_dirs) {
    manifest::LoadOptions options;
    options.allowed_paths.assign(allowed_dirs.begin(), allowed_dirs.end());
    return options;
}

} // namespace ksx::cli

// Finding, stripping and checking the .ko files a kernel's build produced.
#pragma once

#include "build/build.hpp"

#include <filesystem>

namespace ksx::build {

// The host path of the .ko for `spec`: its explicit path under source_dir, or `<name>.ko`
// searched under install_dir then source_dir ('-' and '_' equivalent). Throws Error when
// missing, ambiguous, or a symbolic link that leads out of those two directories.
std::filesystem::path find_module_file(const manifest::ModuleSpec& spec,
                                       const std::filesystem::path& source_dir,
                                       const std::filesystem::path& install_dir);

// vermagic and depends of a module file, from modinfo.
struct ModuleInfo {
    std::string vermagic;
    std::vector<std::string> depends;
};
ModuleInfo read_module_info(const std::filesystem::path& ko);

// The kernel release a vermagic string names (its first word).
std::string vermagic_release(const std::string& vermagic);

} // namespace ksx::build

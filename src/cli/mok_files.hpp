// The files `kmod-sysext enroll` writes for a Machine Owner Key, and reading them back for
// `kmod-sysext ignition --enroll-mok DIR`.
#pragma once

#include "ignition/mok_enrolment.hpp"

#include <filesystem>

namespace ksx::cli {

// <dir>/<name>.der and <dir>/<name>.hash, the one .der file of `dir`. InputError naming the
// directory or file when it is not what `enroll` wrote.
ignition::MokFiles read_mok_files(const std::filesystem::path& dir);

} // namespace ksx::cli

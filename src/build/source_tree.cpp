#include "build/source_tree.hpp"

namespace ksx::build {

namespace fs = std::filesystem;

void copy_source_tree(const fs::path& from, const fs::path& to) {
    // The top itself is followed (a manifest may name a link to its tree), nothing below it.
    fs::copy(fs::canonical(from), to,
             fs::copy_options::recursive | fs::copy_options::copy_symlinks);
}

} // namespace ksx::build

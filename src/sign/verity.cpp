#include "sign/verity.hpp"

#include "util/atomic_file.hpp"
#include "util/error.hpp"
#include "util/unique_fd.hpp"

#include <fcntl.h>

namespace ksx::sign {

namespace fs = std::filesystem;

VerityTree compute_verity(const fs::path& data, const VerityParams& params) {
    UniqueFd fd(::open(data.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd) {
        throw_errno("failed to open " + data.string());
    }
    return trust::compute_verity_tree(fd.get(), data.string(), params);
}

std::string write_verity(const fs::path& data, const fs::path& hash_file,
                         const VerityParams& params) {
    auto tree = compute_verity(data, params);
    write_file_atomic(hash_file, tree.hash_file);
    return to_hex(tree.root_hash);
}

} // namespace ksx::sign

#include "util/temp_dir.hpp"

#include "util/error.hpp"

#include <cstdlib>
#include <system_error>

namespace ksx {

TempDir::TempDir(const std::string& prefix, std::filesystem::path parent) {
    if (parent.empty()) {
        const char* tmp = std::getenv("TMPDIR");
        parent = tmp && *tmp ? tmp : "/tmp";
    }
    std::string pattern = (parent / (prefix + "XXXXXX")).string();
    if (::mkdtemp(pattern.data()) == nullptr) {
        throw_errno("failed to create a temporary directory in " + parent.string());
    }
    path_ = pattern;
}

TempDir::TempDir(TempDir&& other) noexcept : path_(std::move(other.path_)), keep_(other.keep_) {
    other.path_.clear();
}

TempDir::~TempDir() {
    if (!keep_ && !path_.empty()) {
        std::error_code ignored; // best effort: a destructor must not throw
        std::filesystem::remove_all(path_, ignored);
    }
}

} // namespace ksx

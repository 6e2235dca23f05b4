#include "util/temp_dir.hpp"

#include "util/error.hpp"
#include "util/owner_lock.hpp"

#include <cstdlib>
#include <system_error>

namespace ksx {

TempDir::TempDir(const std::string& prefix, std::filesystem::path parent) {
    if (parent.empty()) {
        const char* tmp = std::getenv("TMPDIR");
        parent = tmp && *tmp ? tmp : "/tmp";
    }
    while (path_.empty()) {
        std::string pattern = (parent / (prefix + "XXXXXX")).string();
        if (::mkdtemp(pattern.data()) == nullptr) {
            throw_errno("failed to create a temporary directory in " + parent.string());
        }
        lock_ = lock_new_entry(pattern);
        if (lock_) { // else a cleaner removed it before the lock: make another
            path_ = pattern;
        }
    }
}

TempDir::TempDir(TempDir&& other) noexcept
    : path_(std::move(other.path_)), lock_(std::move(other.lock_)), keep_(other.keep_) {
    other.path_.clear();
}

TempDir::~TempDir() {
    if (!keep_ && !path_.empty()) {
        std::error_code ignored; // best effort: a destructor must not throw
        std::filesystem::remove_all(path_, ignored);
    }
}

} // namespace ksx

#include "cli/mok_files.hpp"

#include "sign/keys.hpp"
#include "sign/mok_enrolment.hpp"
#include "util/error.hpp"
#include "util/file_io.hpp"

#include <system_error>

namespace ksx::cli {

namespace fs = std::filesystem;

ignition::MokFiles read_mok_files(const fs::path& dir) {
    std::vector<fs::path> ders;
    std::error_code ec;
    for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
        if (it->path().extension() == ".der") {
            ders.push_back(it->path());
        }
    }
    if (ec) {
        throw InputError(dir.string() + ": " + ec.message());
    }
    if (ders.size() != 1) {
        throw InputError(dir.string() +
                         ": expected one <name>.der written by `kmod-sysext enroll`, found " +
                         std::to_string(ders.size()));
    }
    auto certificate = sign::load_certificate(ders.front());
    auto hash_file = fs::path(ders.front()).replace_extension(".hash");
    std::string hash;
    try {
        hash = read_file(hash_file);
    } catch (const std::exception& e) {
        throw InputError(hash_file.string() + ": cannot read the MOK password hash: " + e.what());
    }
    while (!hash.empty() && (hash.back() == '\n' || hash.back() == '\r')) {
        hash.pop_back();
    }
    if (!hash.starts_with("$6$") || hash.find('\n') != std::string::npos) {
        throw InputError(hash_file.string() + ": not a SHA-512 crypt hash (\"$6$...\")");
    }
    auto enrolment = sign::mok_certificate(certificate.get());
    return {ders.front().stem().string(), enrolment.der, hash, enrolment.sha1_fingerprint};
}

} // namespace ksx::cli

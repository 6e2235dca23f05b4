#include "sign/sidecar_info.hpp"

#include "util/error.hpp"
#include "util/file_io.hpp"

namespace ksx::sign {

namespace fs = std::filesystem;

std::optional<SidecarInfo> read_sidecars(const fs::path& image) {
    SidecarInfo info;
    info.paths = sidecar_paths(image);
    std::error_code ec;
    info.has_verity = fs::exists(info.paths.verity, ec);
    bool has_roothash = fs::exists(info.paths.roothash, ec);
    bool has_signature = fs::exists(info.paths.signature, ec);
    if (!info.has_verity && !has_roothash && !has_signature) {
        return std::nullopt;
    }
    if (has_roothash) {
        auto text = read_file(info.paths.roothash);
        auto end = text.find_last_not_of(" \t\r\n");
        text.erase(end == std::string::npos ? 0 : end + 1);
        info.root_hash = text;
    }
    if (has_signature) {
        try {
            info.signer = signer_identity(read_file(info.paths.signature));
        } catch (const InputError& e) {
            info.signature_problem = e.what();
        }
    }
    return info;
}

} // namespace ksx::sign

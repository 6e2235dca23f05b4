#include "sign/image_signature.hpp"

#include "contract/sidecars.hpp"
#include "sign/roothash_signature.hpp"
#include "sign/verity.hpp"
#include "util/atomic_file.hpp"

namespace ksx::sign {

namespace fs = std::filesystem;

Sidecars sidecar_paths(const fs::path& image) {
    auto base = image;
    if (base.extension() == ".raw") {
        base.replace_extension();
    }
    auto with = [&](const char* suffix) { return fs::path(base.string() + suffix); };
    return {with(contract::kVeritySuffix), with(contract::kRootHashSuffix),
            with(contract::kRootHashSignatureSuffix)};
}

SignedImage sign_image(const fs::path& image, std::string_view image_sha256_hex,
                       const Signer& signer, unsigned threads) {
    VerityParams params;
    params.salt = salt_from_hex(image_sha256_hex);
    params.uuid = uuid_from_salt(params.salt);
    params.threads = threads;
    SignedImage result;
    result.sidecars = sidecar_paths(image);
    result.root_hash = write_verity(image, result.sidecars.verity, params);
    write_file_atomic(result.sidecars.roothash, result.root_hash + "\n");
    write_file_atomic(result.sidecars.signature, sign_root_hash(result.root_hash, signer));
    return result;
}

} // namespace ksx::sign

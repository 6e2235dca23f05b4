#include "pack/build_signing.hpp"

#include "container/rootfs_path.hpp"
#include "contract/module_compression.hpp"
#include "sign/ddi.hpp"
#include "sign/image_signature.hpp"
#include "sign/module_compression.hpp"
#include "sign/module_signature.hpp"
#include "util/error.hpp"
#include "util/sha256.hpp"
#include "util/temp_dir.hpp"

namespace ksx::pack {

namespace fs = std::filesystem;

namespace {

sign::Signer load_checked(const fs::path& key, const fs::path& cert, Progress& progress) {
    if (auto warning = sign::key_permission_warning(key)) {
        progress.line("warning: " + *warning);
    }
    return sign::load_signer(key, cert);
}

} // namespace

BuildSigners load_build_signers(const manifest::Manifest& manifest, const std::string& key,
                                const std::string& cert, Progress& progress) {
    BuildSigners signers;
    signers.module_hash = manifest.signing.module_hash;
    if (!key.empty()) {
        signers.modules = load_checked(key, cert, progress);
        signers.image = sign::shared_signer(*signers.modules);
        return signers;
    }
    if (const auto& pair = manifest.signing.modules) {
        signers.modules = load_checked(pair->key, pair->cert, progress);
    }
    if (const auto& pair = manifest.signing.image) {
        const auto& modules = manifest.signing.modules;
        // The same pair for both is loaded once (one PIN prompt, one token login).
        signers.image = modules && modules->key == pair->key && modules->cert == pair->cert
                            ? sign::shared_signer(*signers.modules)
                            : load_checked(pair->key, pair->cert, progress);
    }
    return signers;
}

ModuleTreatment sign_and_compress_modules(build::KernelBuild& build, const BuildSigners& signers,
                                          const manifest::Manifest& manifest,
                                          const container::Rootfs& rootfs) {
    auto tree = container::host_path(
        rootfs.root, container::kernel_source_in_container(rootfs, build.kernel_release));
    auto config = sign::read_kernel_config(tree);
    ModuleTreatment treatment;
    if (signers.modules) {
        treatment.hash = signers.module_hash;
        if (treatment.hash.empty()) {
            treatment.hash =
                (config ? sign::kernel_module_hash(*config) : std::nullopt).value_or("sha256");
        }
        for (const auto& module : build.modules) {
            try {
                sign::sign_module_file(module.file, *signers.modules, treatment.hash);
            } catch (const std::exception& e) {
                throw Error("kernel " + build.kernel_release + ": signing " + module.name +
                            " failed: " + e.what());
            }
        }
    }
    if (auto chosen = manifest.image.module_compression) {
        treatment.compression = {*chosen, "image.module_compression", {}};
    } else if (config) {
        treatment.compression = sign::kernel_module_compression(*config);
    } else {
        treatment.compression = {
            contract::ModuleCompression::None, "no kernel configuration in " + tree.string(), {}};
    }
    for (auto& module : build.modules) {
        module.file = sign::compress_module(module.file, treatment.compression.compression);
    }
    return treatment;
}

void require_ddi_signer(const manifest::Manifest& manifest, const BuildSigners& signers) {
    if (manifest.image.format == manifest::ImageFormat::Ddi && !signers.image) {
        throw InputError(manifest.file.string() +
                         ": image.format: ddi needs an image key (signing.image, or "
                         "--sign-key and --sign-cert)");
    }
}

VerityRecord write_ddi_image(const image::Tree& tree, const fs::path& image,
                             const manifest::Manifest& manifest, const BuildSigners& signers,
                             const image::WriteOptions& options) {
    std::vector<std::string> outside;
    auto usr = tree.subtree("usr", outside);
    if (!outside.empty()) {
        throw InputError(manifest.file.string() +
                         ": image.format: ddi holds only /usr, but the image would also hold /" +
                         outside.front() + (outside.size() > 1 ? " and more" : ""));
    }
    TempDir work(".ksx-usr-", image.parent_path());
    auto squashfs = work.path() / "usr.squashfs";
    image::write_squashfs(usr, squashfs, options);
    auto root_hash = sign::write_ddi(squashfs, sha256_file_hex(squashfs), image,
                                     manifest.target.architecture, *signers.image, options.threads);
    VerityRecord verity;
    verity.ddi = true;
    verity.root_hash = root_hash;
    verity.signer = sign::certificate_subject(signers.image->certificate.get());
    return verity;
}

std::optional<VerityRecord> sign_image_file(const fs::path& image, const fs::path& final_image,
                                            const std::string& sha256_hex,
                                            const BuildSigners& signers, unsigned threads) {
    if (!signers.image) {
        return std::nullopt;
    }
    auto signed_image = sign::sign_image(image, sha256_hex, *signers.image, threads);
    auto sidecars = sign::sidecar_paths(final_image);
    VerityRecord verity;
    verity.root_hash = signed_image.root_hash;
    verity.verity = sidecars.verity;
    verity.roothash = sidecars.roothash;
    verity.roothash_p7s = sidecars.signature;
    verity.signer = sign::certificate_subject(signers.image->certificate.get());
    return verity;
}

} // namespace ksx::pack

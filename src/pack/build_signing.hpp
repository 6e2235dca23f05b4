// The signing steps of `build`: modules are signed (then compressed) after they are built, and
// each image gets its dm-verity sidecars and root hash signature after it is written.
#pragma once

#include "build/build.hpp"
#include "container/container.hpp"
#include "image/squashfs_writer.hpp"
#include "manifest/manifest.hpp"
#include "pack/image_record.hpp"
#include "sign/keys.hpp"
#include "sign/module_compression.hpp"
#include "util/progress.hpp"

#include <filesystem>
#include <optional>
#include <string>

namespace ksx::pack {

struct BuildSigners {
    std::optional<sign::Signer> modules;
    std::optional<sign::Signer> image;
    std::string module_hash; // the manifest's; empty: each kernel's CONFIG_MODULE_SIG_HASH
};

// The signers of a build: `--sign-key KEY --sign-cert CERT` (both uses) when given, else the
// manifest's `signing:`. Key files readable by others get a warning on `progress`.
BuildSigners load_build_signers(const manifest::Manifest& manifest, const std::string& key,
                                const std::string& cert, Progress& progress);

// What was done to one kernel's modules after the build.
struct ModuleTreatment {
    std::string hash; // the signature hash; empty when modules are not signed
    sign::CompressionChoice compression;
};

// Signs every module of `build` (strip was done by the build) and then compresses it as
// `image.module_compression` says or, when the manifest does not say, as the kernel's
// configuration in the container does (CONFIG_MODULE_SIG_HASH and CONFIG_MODULE_COMPRESS_* of
// its build tree); `module.file` names the result.
ModuleTreatment sign_and_compress_modules(build::KernelBuild& build, const BuildSigners& signers,
                                          const manifest::Manifest& manifest,
                                          const container::Rootfs& rootfs);

// `image.format: ddi` needs an image key; throws InputError naming the manifest when it has none.
void require_ddi_signer(const manifest::Manifest& manifest, const BuildSigners& signers);

// Writes `tree` as a signed DDI at `image` (format ddi): the /usr part of the tree as the usr
// partition's squashfs, its verity partition and signature partition (InputError when the
// tree holds anything outside /usr); its work files live beside `image`. Returns its root hash
// and signer. `options` are the squashfs settings (threads, block cache).
VerityRecord write_ddi_image(const image::Tree& tree, const std::filesystem::path& image,
                             const manifest::Manifest& manifest, const BuildSigners& signers,
                             const image::WriteOptions& options);

// Writes the .verity, .roothash and .roothash.p7s of the staged image `image` beside it (nothing
// when images are not signed); returns what was written, with the paths the sidecars get
// beside `final_image` once committed.
std::optional<VerityRecord> sign_image_file(const std::filesystem::path& image,
                                            const std::filesystem::path& final_image,
                                            const std::string& sha256_hex,
                                            const BuildSigners& signers, unsigned threads);

} // namespace ksx::pack

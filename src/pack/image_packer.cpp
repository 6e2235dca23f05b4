#include "pack/image_packer.hpp"

#include "contract/module_compression.hpp"
#include "image/squashfs_writer.hpp"
#include "pack/layout.hpp"
#include "sign/image_signature.hpp"
#include "util/error.hpp"
#include "util/sha256.hpp"

#include <fmt/core.h>

namespace ksx::pack {

namespace fs = std::filesystem;

namespace {

// An image written into the output's staging directory with its sidecars, not yet committed.
struct StagedImage {
    std::filesystem::path path; // where the commit puts it
    std::uint64_t size = 0;
    std::string sha256;
    std::optional<VerityRecord> verity;
    // The set appears whole: the image with its sidecars, or without the sidecars an earlier
    // signed build of the same name left (they would not match the new image).
    std::vector<std::string> put;
    std::vector<std::string> remove;
};

// Writes `tree` as the image `name` (squashfs or DDI, as the manifest says) and, for a signed
// squashfs, its verity sidecars; `task` names the live progress line.
StagedImage stage_image(const image::Tree& tree, const std::string& name, const std::string& task,
                        const PackContext& context,
                        const std::shared_ptr<image::BlockCache>& block_cache) {
    const auto& manifest = context.manifest;
    auto& progress = context.progress;
    progress.task(task, Phase::Pack, "packing " + name);
    auto options = context.image_options;
    options.block_cache = block_cache;
    options.on_file = [&](std::size_t written, std::size_t files) {
        progress.detail(task, fmt::format("{} of {} files", written, files));
    };
    const auto staged = context.output.staging() / name;
    StagedImage image;
    image.path = context.output.path() / name;
    if (manifest.image.format == manifest::ImageFormat::Ddi) {
        image.verity = write_ddi_image(tree, staged, manifest, context.signers, options);
    } else {
        image::write_squashfs(tree, staged, options);
    }
    image.size = fs::file_size(staged);
    image.sha256 = sha256_file_hex(staged);
    if (manifest.image.format == manifest::ImageFormat::Squashfs) {
        if (context.signers.image) {
            progress.task(task, Phase::Sign, "verity tree and root hash signature");
        }
        image.verity =
            sign_image_file(staged, image.path, image.sha256, context.signers, context.threads);
    }
    auto sidecars = sign::sidecar_paths(staged);
    for (const auto& sidecar : {sidecars.verity, sidecars.roothash, sidecars.signature}) {
        (fs::exists(sidecar) ? image.put : image.remove).push_back(sidecar.filename().string());
    }
    image.put.push_back(name);
    return image;
}

void report(const StagedImage& image, Progress& progress) {
    progress.line(fmt::format("{} ({:.1f} KiB, sha256 {})", image.path.string(),
                              static_cast<double>(image.size) / 1024.0, image.sha256));
}

void report_verity(const std::optional<VerityRecord>& verity, Progress& progress) {
    if (verity) {
        progress.line(
            fmt::format("  verity root hash {}, signed by {}", verity->root_hash, verity->signer));
    }
}

} // namespace

ImageRecord pack_kernel(build::KernelBuild& kernel_build, const PackContext& context,
                        const std::shared_ptr<image::BlockCache>& block_cache) {
    const auto& manifest = context.manifest;
    auto& progress = context.progress;
    const auto& release = kernel_build.kernel_release;
    auto name = pack::image_file_name(manifest, kernel_build.image_version, release);
    progress.task(release, Phase::Sign,
                  (context.signers.modules ? "signing and compressing " : "compressing ") +
                      std::to_string(kernel_build.modules.size()) + " module(s)");
    auto treatment =
        sign_and_compress_modules(kernel_build, context.signers, manifest, context.rootfs);
    if (!treatment.compression.note.empty()) {
        progress.line("note: kernel " + release + ": " + treatment.compression.note);
    }
    auto staged =
        stage_image(pack::compose(manifest, kernel_build), name, release, context, block_cache);
    ImageRecord record;
    record.kernel = release;
    record.version = kernel_build.image_version;
    record.path = staged.path;
    record.size = staged.size;
    record.sha256 = staged.sha256;
    record.module_signature_hash = treatment.hash;
    record.compression = treatment.compression;
    record.verity = staged.verity;
    for (const auto& m : kernel_build.modules) {
        record.modules.push_back({m.name, m.vermagic, m.depends, m.kernel_depends});
    }
    if (context.on_staged) {
        context.on_staged(release, staged.put, record);
    }
    context.output.commit(staged.put, staged.remove);
    if (kernel_build.compiler_cache.used) {
        const auto& stats = kernel_build.compiler_cache;
        record.compiler_cache = stats;
        progress.line(fmt::format("  ccache: {} hit(s), {} miss(es)", stats.hits, stats.misses));
    }
    report(staged, progress);
    progress.line(fmt::format(
        "  modules: {}, compression {} ({})",
        treatment.hash.empty() ? "not signed" : "signed with " + treatment.hash,
        contract::to_string(treatment.compression.compression), treatment.compression.reason));
    report_verity(staged.verity, progress);
    return record;
}

ImageRecord pack_userspace(const std::string& version,
                           const std::vector<std::filesystem::path>& packages,
                           const PackContext& context,
                           const std::shared_ptr<image::BlockCache>& block_cache) {
    auto name = userspace_image_file_name(context.manifest, version);
    auto staged = stage_image(compose_userspace(context.manifest, version, packages), name, name,
                              context, block_cache);
    ImageRecord record;
    record.version = version; // no kernel: the shared image
    record.path = staged.path;
    record.size = staged.size;
    record.sha256 = staged.sha256;
    record.verity = staged.verity;
    if (context.on_staged) {
        context.on_staged("", staged.put, record);
    }
    context.output.commit(staged.put, staged.remove);
    context.progress.done(name);
    report(staged, context.progress);
    report_verity(staged.verity, context.progress);
    return record;
}

ImagePacker::ImagePacker(const PackContext& context)
    : context_(context), thread_([this](std::stop_token stop) { run(stop); }) {}

ImagePacker::~ImagePacker() {
    thread_.request_stop();
    wake_.notify_all();
}

void ImagePacker::add(build::KernelBuild kernel_build) {
    {
        std::lock_guard lock(mutex_);
        queue_.push_back(std::move(kernel_build));
    }
    wake_.notify_all();
}

void ImagePacker::run(std::stop_token stop) {
    while (true) {
        build::KernelBuild next;
        {
            std::unique_lock lock(mutex_);
            if (!wake_.wait(lock, stop, [this] { return closed_ || !queue_.empty(); })) {
                return; // stop requested: the build failed as a whole
            }
            if (queue_.empty()) {
                return; // closed and drained
            }
            next = std::move(queue_.front());
            queue_.pop_front();
        }
        // A kernel that fails here does not cost the others their images.
        std::optional<build::KernelFailure> failure;
        ImageRecord image;
        try {
            image = pack_kernel(next, context_, block_cache_);
        } catch (const std::exception& e) {
            const auto& manifest = context_.manifest;
            failure = build::kernel_failure(e, next.kernel_release,
                                            manifest.target_list ? manifest.target_name : "", {});
        }
        context_.progress.done(next.kernel_release);
        std::lock_guard lock(mutex_);
        if (failure) {
            outcome_.failures.push_back(std::move(*failure));
        } else {
            outcome_.images.push_back(std::move(image));
        }
    }
}

ImagePacker::Outcome ImagePacker::finish() {
    {
        std::lock_guard lock(mutex_);
        closed_ = true;
    }
    wake_.notify_all();
    thread_.join();
    outcome_.reused_blocks = block_cache_->hits();
    outcome_.reused_bytes = block_cache_->saved_bytes();
    return std::move(outcome_);
}

} // namespace ksx::pack

// Packing kernels' images (module signatures, squashfs, verity) on a thread of its own, so one
// kernel's image is written while the next kernel compiles.
#pragma once

#include "build/build.hpp"
#include "container/container.hpp"
#include "image/block_cache.hpp"
#include "manifest/manifest.hpp"
#include "pack/build_signing.hpp"
#include "pack/image_record.hpp"
#include "util/output_dir.hpp"
#include "util/progress.hpp"

#include <condition_variable>
#include <deque>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace ksx::pack {

// What packing needs besides each kernel's build; referenced, so it must outlive the packer.
struct PackContext {
    const manifest::Manifest& manifest;
    const container::Rootfs& rootfs;
    const BuildSigners& signers;
    OutputDir& output; // each image and its sidecars are staged there, then committed as a set
    unsigned threads = 1;
    // The squashfs settings (write_options()): one time stamp for the whole run, the one the
    // builds saw as SOURCE_DATE_EPOCH.
    const image::WriteOptions& image_options;
    Progress& progress;
    // Called with a kernel's staged set (file names in the output's staging directory) and
    // its record just before the set is committed: the build cache keeps it. `kernel` is ""
    // for a shared userspace image.
    std::function<void(const std::string& kernel, const std::vector<std::string>& files,
                       const ImageRecord& record)>
        on_staged = {};
};

// Signs and compresses the modules of one kernel's build, writes its image and verity
// sidecars into the output's staging directory and commits them as one set (replacing an
// earlier set of the same name whole, stale sidecars included); returns what was made. Throws
// on failure.
ImageRecord pack_kernel(build::KernelBuild& kernel_build, const PackContext& context,
                        const std::shared_ptr<image::BlockCache>& block_cache);

// Writes the shared userspace image of `version` (`userspace: shared`): the package trees
// `packages`, the manifest's files and its extension-release, with its verity sidecars, committed
// as one set. Its record has no kernel and no modules. Throws on failure.
ImageRecord pack_userspace(const std::string& version,
                           const std::vector<std::filesystem::path>& packages,
                           const PackContext& context,
                           const std::shared_ptr<image::BlockCache>& block_cache);

class ImagePacker {
public:
    explicit ImagePacker(const PackContext& context);
    ImagePacker(const ImagePacker&) = delete;
    ImagePacker& operator=(const ImagePacker&) = delete;
    ~ImagePacker(); // stops after the image being written; queued kernels are dropped

    // Queues a kernel that built (thread-safe); it is packed in the order queued.
    void add(build::KernelBuild kernel_build);

    struct Outcome {
        std::vector<ImageRecord> images;            // in the order packed
        std::vector<build::KernelFailure> failures; // kernels that failed to pack
        std::uint64_t reused_blocks = 0;            // compressed blocks taken from earlier images
        std::uint64_t reused_bytes = 0;
    };
    // Waits for every queued kernel to be packed.
    Outcome finish();

private:
    void run(std::stop_token stop);

    const PackContext& context_;
    // One cache for the run: blocks that every kernel's image holds (firmware, libraries) are
    // compressed for the first image only.
    std::shared_ptr<image::BlockCache> block_cache_ = std::make_shared<image::BlockCache>();
    std::mutex mutex_;
    std::condition_variable_any wake_;
    std::deque<build::KernelBuild> queue_;
    bool closed_ = false;
    Outcome outcome_;
    std::jthread thread_; // last: started when everything else exists
};

} // namespace ksx::pack

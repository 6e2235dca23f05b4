// The build-images pipeline of `kmod-sysext build`: each target's container, each kernel's
// build (or its image set from the build cache), module signing and compression, the image,
// its verity sidecars and the commit of each set into the output directory.
#pragma once

#include "build/kernel_failure.hpp"
#include "manifest/manifest.hpp"
#include "pack/image_record.hpp"
#include "util/progress.hpp"

#include <cstddef>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <vector>

namespace ksx::pack {

// What to build, as `build`'s options say.
struct BuildRequest {
    std::filesystem::path output = "out";
    unsigned jobs = 1;                // kernels built at the same time
    std::vector<std::string> kernels; // `--kernel`: releases or package:NAME[/SUITE]
    std::vector<std::string> targets; // target names; empty: every target
    std::string only;                 // a plan entry id
    bool refresh = false;             // rebuild the cached default developer container
    bool keep_work = false;           // keep the work directory
    bool no_cache = false;            // rebuild every kernel (the builds are still stored)
    std::string sign_key;             // overrides the manifest's signing keys, with
    std::string sign_cert;            // sign_cert
};

struct BuiltImages {
    std::vector<ImageRecord> images; // in the order of the targets and their kernels
    std::size_t cache_hits = 0;      // images committed from the build cache
};

// The kernels that failed to build or pack, thrown once every other kernel has its image. what()
// is one describe() line per kernel; the CLI exits with status 2 when input() holds.
class KernelFailures : public std::runtime_error {
public:
    explicit KernelFailures(std::vector<build::KernelFailure> failures);
    const std::vector<build::KernelFailure>& failures() const { return failures_; }
    // Every failure is the manifest's or its inputs' fault.
    bool input() const;

private:
    std::vector<build::KernelFailure> failures_;
};

// Builds `manifest` (as loaded) as `request` says and commits each kernel's image set into the
// output directory. A kernel that fails does not cost the others their images; the run then
// throws KernelFailures naming each kernel (and its log, kept in the work directory).
BuiltImages build_images(const manifest::Manifest& manifest, const BuildRequest& request,
                         Progress& progress);

} // namespace ksx::pack

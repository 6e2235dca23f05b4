#include "pack/cached_builds.hpp"

#include "manifest/image_version.hpp"
#include "pack/layout.hpp"
#include "plan/local_inputs.hpp"
#include "plan/part_inputs.hpp"
#include "sign/image_signature.hpp"
#include "sign/keys.hpp"
#include "util/file_io.hpp"

#include <algorithm>

namespace ksx::pack {

namespace fs = std::filesystem;

namespace {

std::string cert_der(const std::optional<sign::Signer>& signer) {
    return signer ? sign::certificate_der(signer->certificate.get()) : std::string();
}

} // namespace

CachedBuilds::CachedBuilds(const manifest::Manifest& manifest, const fs::path& cache,
                           const BuildSigners& signers, const std::string& sign_cert, bool lookup)
    : manifest_(manifest), cache_(cache / "builds", build::build_cache_limit()), lookup_(lookup) {
    plan::PlanInputs whole;
    whole.manifest_text = read_file(manifest.file);
    std::vector<fs::path> extra_certs;
    if (!sign_cert.empty()) {
        extra_certs.emplace_back(sign_cert);
    }
    whole.local_inputs = plan::local_inputs(manifest, extra_certs);
    if (manifest.userspace == manifest::Userspace::Shared) {
        modules_inputs_ = plan::inputs_of_part(whole, plan::ImagePart::Modules);
        userspace_inputs_ = plan::inputs_of_part(whole, plan::ImagePart::Userspace);
    } else {
        // Each kernel's image holds the userspace too.
        modules_inputs_ = plan::inputs_of_part(whole, plan::ImagePart::Kernel);
    }
    // The certificates the signers hold, whatever named them; and the module hash the
    // manifest fixes (else each kernel's configuration, part of its container).
    certs_ = {cert_der(signers.modules), cert_der(signers.image), signers.module_hash};
    timestamp_ = write_options(manifest, 1).mtime;
}

build::BuildKeyInputs CachedBuilds::common_inputs(const container::Rootfs& rootfs) const {
    build::BuildKeyInputs inputs;
    inputs.tool_version = KSX_VERSION;
    inputs.container = rootfs.identity;
    inputs.certs = certs_;
    inputs.timestamp = timestamp_;
    return inputs;
}

std::string CachedBuilds::key(const manifest::Manifest& target, const container::Rootfs& rootfs,
                              const std::string& kernel, const std::string& release) const {
    auto inputs = common_inputs(rootfs);
    inputs.plan_key = plan::entry_cache_key(
        manifest_, modules_inputs_, manifest_.target_list ? target.target_name : std::string(),
        kernel, release);
    inputs.kernel_release = release;
    if (manifest::has_shared_userspace(target, release)) {
        inputs.userspace = manifest::image_version(target, release); // KMOD_SYSEXT_USERSPACE
    }
    return build::build_cache_key(inputs);
}

std::string CachedBuilds::userspace_key(const manifest::Manifest& target,
                                        const container::Rootfs& rootfs, const std::string& version,
                                        const std::vector<std::string>& packages) const {
    auto inputs = common_inputs(rootfs);
    inputs.plan_key =
        plan::entry_cache_key(manifest_, userspace_inputs_,
                              manifest_.target_list ? target.target_name : std::string(), "", "");
    inputs.userspace = "shared " + version;
    for (const auto& field : packages) {
        inputs.userspace += '\n' + field;
    }
    return build::build_cache_key(inputs);
}

std::optional<ImageRecord> CachedBuilds::restore(const std::string& key,
                                                 const std::string& image_name, OutputDir& output) {
    if (!lookup_) {
        return std::nullopt;
    }
    auto restored = cache_.restore(key, output.staging());
    if (!restored) {
        return std::nullopt;
    }
    auto record = from_cache_record(restored->record, output.path() / image_name);
    if (!record || std::find(restored->files.begin(), restored->files.end(), image_name) ==
                       restored->files.end()) {
        for (const auto& name : restored->files) {
            std::error_code ec;
            fs::remove(output.staging() / name, ec);
        }
        return std::nullopt;
    }
    std::vector<std::string> remove;
    auto sidecars = sign::sidecar_paths(output.staging() / image_name);
    for (const auto& sidecar : {sidecars.verity, sidecars.roothash, sidecars.signature}) {
        auto name = sidecar.filename().string();
        if (std::find(restored->files.begin(), restored->files.end(), name) ==
            restored->files.end()) {
            remove.push_back(name);
        }
    }
    // The image last, as pack_kernel commits it.
    std::vector<std::string> put;
    for (const auto& name : restored->files) {
        if (name != image_name) {
            put.push_back(name);
        }
    }
    put.push_back(image_name);
    output.commit(put, remove);
    return record;
}

void CachedBuilds::store(const std::string& key, const fs::path& staging,
                         const std::vector<std::string>& files, const ImageRecord& record,
                         Progress& progress) {
    try {
        cache_.store(key, staging, files, cache_record(record));
    } catch (const std::exception& e) {
        progress.line(std::string("warning: build cache: ") + e.what());
    }
}

} // namespace ksx::pack

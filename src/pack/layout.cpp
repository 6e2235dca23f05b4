#include "pack/layout.hpp"

#include "contract/extension_release.hpp"
#include "contract/image_name.hpp"
#include "contract/modules_load.hpp"
#include "manifest/image_version.hpp"
#include "util/error.hpp"

#include <cstdlib>
#include <limits>
#include <string>

namespace ksx::pack {

namespace {

std::string modules_dir(const manifest::Manifest& manifest, const std::string& kernel) {
    return "usr/lib/modules/" + kernel + "/extra/" + manifest.name;
}

std::string tool_dir(const manifest::Manifest& manifest) {
    return "usr/lib/kmod-sysext/" + manifest.name;
}

image::Compression to_image_compression(manifest::Compression compression) {
    switch (compression) {
    case manifest::Compression::Xz:
        return image::Compression::Xz;
    case manifest::Compression::Gzip:
        return image::Compression::Gzip;
    case manifest::Compression::Zstd:
        break;
    }
    return image::Compression::Zstd;
}

// "<name>.ko", or ".ko.xz" / ".ko.zst" when the built file was compressed after signing.
std::string module_file_name(const build::BuiltModule& module) {
    auto file = module.file.filename().string();
    for (std::string_view suffix : {".ko.xz", ".ko.zst"}) {
        if (file.ends_with(suffix)) {
            return module.name + std::string(suffix);
        }
    }
    return module.name + ".ko";
}

// The extension-release fields every image of `version` has: the target's identity, the
// extension's name and the version.
contract::ExtensionRelease release_identity(const manifest::Manifest& manifest,
                                            const std::string& version) {
    const auto& target = manifest.target;
    contract::ExtensionRelease release;
    release.os = {target.id, target.version_id, target.sysext_level, target.architecture};
    release.name = manifest.name;
    release.version = version;
    return release;
}

void add_files(image::Tree& tree, const manifest::Manifest& manifest) {
    for (const auto& file : manifest.files) {
        tree.add_file(file.destination.substr(1), file.source, file.mode);
    }
}

} // namespace

std::string image_file_name(const manifest::Manifest& manifest, const std::string& version,
                            const std::string& kernel) {
    return contract::ImageName{manifest.name, version, kernel}.file_name();
}

std::string userspace_image_file_name(const manifest::Manifest& manifest,
                                      const std::string& version) {
    return contract::ImageName{manifest.name, version, {}}.file_name();
}

std::string extension_release(const manifest::Manifest& manifest, const build::KernelBuild& build) {
    auto release = release_identity(manifest, build.image_version);
    release.kernel = build.kernel_release;
    if (manifest::has_shared_userspace(manifest, build.kernel_release)) {
        release.userspace = build.image_version;
    }
    return contract::format_extension_release(release);
}

std::string load_order(const manifest::Manifest& manifest, const build::KernelBuild& build) {
    std::vector<contract::LoadEntry> entries;
    for (const auto& module : build.modules) {
        contract::LoadEntry entry;
        entry.name = module.name;
        entry.path =
            "/" + modules_dir(manifest, build.kernel_release) + "/" + module_file_name(module);
        entry.depends = module.depends;
        entry.boot = module.load;
        entry.options = module.options;
        entries.push_back(std::move(entry));
    }
    return contract::format_load_order(manifest.name, build.image_version, build.kernel_release,
                                       entries);
}

std::string modprobe_conf(const manifest::Manifest& manifest, const build::KernelBuild& build) {
    std::string hook = "/" + tool_dir(manifest) + "/modprobe-hook";
    std::string out =
        "# Loads the modules of the " + manifest.name +
        " extension from the merged image (there is no modules.dep entry for them).\n";
    for (const auto& module : build.modules) {
        out += "install " + module.name + " " + hook + " " + module.name + " $CMDLINE_OPTS\n";
    }
    return out;
}

image::Tree compose(const manifest::Manifest& manifest, const build::KernelBuild& build) {
    image::Tree tree;
    // Userspace packages first: the manifest's files and kmod-sysext's own files win. With
    // `userspace: shared` the build fetched no packages, and the files go to the shared image.
    for (const auto& package : build.userspace) {
        tree.add_host_tree("", package);
    }
    if (manifest.userspace == manifest::Userspace::PerKernel) {
        add_files(tree, manifest);
    }
    tree.add_file_content(contract::extension_release_path(manifest.name),
                          extension_release(manifest, build));
    for (const auto& module : build.modules) {
        tree.add_file(modules_dir(manifest, build.kernel_release) + "/" + module_file_name(module),
                      module.file);
    }
    tree.add_file_content(tool_dir(manifest) + "/modules.load", load_order(manifest, build));
    tree.add_file_content(tool_dir(manifest) + "/modprobe-hook",
                          "#!/bin/sh\n"
                          "# Called by modprobe through usr/lib/modprobe.d/kmod-sysext-" +
                              manifest.name +
                              ".conf.\n"
                              "PATH=/opt/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/"
                              "sbin:/bin\n"
                              "export PATH\n"
                              "exec kmod-sysext-activate modprobe --extension " +
                              manifest.name + " \"$@\"\n",
                          0755);
    tree.add_file_content("usr/lib/modprobe.d/kmod-sysext-" + manifest.name + ".conf",
                          modprobe_conf(manifest, build));
    return tree;
}

image::Tree compose_userspace(const manifest::Manifest& manifest, const std::string& version,
                              const std::vector<std::filesystem::path>& packages) {
    image::Tree tree;
    for (const auto& package : packages) {
        tree.add_host_tree("", package);
    }
    add_files(tree, manifest);
    const contract::ImageName name{manifest.name, version, {}};
    tree.add_file_content(contract::extension_release_path(name.sysext_name()),
                          contract::format_extension_release(release_identity(manifest, version)));
    return tree;
}

image::WriteOptions write_options(const manifest::Manifest& manifest, unsigned threads) {
    image::WriteOptions options;
    options.compression = to_image_compression(manifest.image.compression);
    options.level = manifest.image.level;
    options.threads = threads == 0 ? 1 : threads;
    // SOURCE_DATE_EPOCH (reproducible-builds.org) wins over the manifest; 0 otherwise, so the
    // same inputs always give the same bytes.
    std::int64_t mtime = manifest.image.timestamp.value_or(0);
    if (const char* epoch = std::getenv("SOURCE_DATE_EPOCH"); epoch && *epoch) {
        char* end = nullptr;
        long long value = std::strtoll(epoch, &end, 10);
        if (*end != '\0' || value < 0) {
            throw InputError(std::string("SOURCE_DATE_EPOCH: \"") + epoch +
                             "\" is not a number of seconds since 1970");
        }
        mtime = value;
    }
    if (mtime > std::numeric_limits<std::uint32_t>::max()) {
        throw InputError("image timestamp " + std::to_string(mtime) +
                         " does not fit squashfs's 32-bit time stamps");
    }
    options.mtime = static_cast<std::uint32_t>(mtime);
    return options;
}

} // namespace ksx::pack

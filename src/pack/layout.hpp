// What a kmod-sysext image holds for one kernel, and what it is called.
//
// Layout (paths inside the image):
//   usr/lib/extension-release.d/extension-release.<name>   matched by systemd-sysext
//   usr/lib/modules/<kernel>/extra/<name>/<module>.ko      the modules, no modules.* indexes
//   usr/lib/kmod-sysext/<name>/modules.load                load order for the activator
//   usr/lib/kmod-sysext/<name>/modprobe-hook               runs the activator for modprobe
//   usr/lib/modprobe.d/kmod-sysext-<name>.conf             `install <module> <hook> <module>`
//   plus the manifest's packages and extra files.
//
// With `userspace: shared` the packages and files go instead into one image per target and image
// version, "<name>-userspace_<version>.raw", shared by the modules images of all its kernels:
//   usr/lib/extension-release.d/extension-release.<name>-userspace   (no KMOD_SYSEXT_KERNEL)
//   plus the packages and files.
// Each modules image then names that version in KMOD_SYSEXT_USERSPACE.
//
// modules.load, format 1: comment lines start with '#'; each other line is one module, in
// load order, with five TAB-separated fields:
//   name  path-in-image  depends(comma-separated, "-" for none)  boot|demand  options
// A dependency not listed in the file is an in-kernel module loaded by name.
#pragma once

#include "build/build.hpp"
#include "image/squashfs_writer.hpp"
#include "manifest/manifest.hpp"

#include <filesystem>
#include <string>
#include <vector>

namespace ksx::pack {

// "<name>_<version>_<kernel>.raw"
std::string image_file_name(const manifest::Manifest& manifest, const std::string& version,
                            const std::string& kernel);

// The shared image of `version`: "<name>-userspace_<version>.raw".
std::string userspace_image_file_name(const manifest::Manifest& manifest,
                                      const std::string& version);

// Content of usr/lib/extension-release.d/extension-release.<name>, for the build's kernel and
// image version (and KMOD_SYSEXT_USERSPACE when it has a shared image).
std::string extension_release(const manifest::Manifest& manifest, const build::KernelBuild& build);

// Content of modules.load (see above).
std::string load_order(const manifest::Manifest& manifest, const build::KernelBuild& build);

// Content of usr/lib/modprobe.d/kmod-sysext-<name>.conf.
std::string modprobe_conf(const manifest::Manifest& manifest, const build::KernelBuild& build);

// The full tree of one kernel's image: its modules, and the packages and files unless they are
// shared.
image::Tree compose(const manifest::Manifest& manifest, const build::KernelBuild& build);

// The tree of the shared image of `version`: the package trees `packages` (in order), the
// manifest's files and its extension-release.
image::Tree compose_userspace(const manifest::Manifest& manifest, const std::string& version,
                              const std::vector<std::filesystem::path>& packages);

image::WriteOptions write_options(const manifest::Manifest& manifest, unsigned threads);

} // namespace ksx::pack

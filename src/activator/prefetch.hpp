// `prefetch`: fetches a kernel's images into the store before the node reboots into it, so the
// first boot on a new kernel finds its image.
#pragma once

#include "activator/context.hpp"
#include "activator/log.hpp"

#include <string>
#include <utility>
#include <vector>

namespace ksx::activator {

// Reads <from>/SHA256SUMS (a release published by `kmod-sysext publish`; `from` is an http(s)
// or file URL, or a directory) and fetches, for each of `kernels`, the newest version of each
// extension's image built for it and for the node's OS release (the identity <from>/index.json
// gives each image, matched against <root>/etc/os-release as systemd-sysext matches; one line
// per image passed over), sidecars first, into <store>/<name>/. Each file is checked
// against its SHA-256 before it takes its final name; files already there with that hash are
// kept. No image for a kernel: a warning line, and the other kernels go on. Returns 1 when a
// fetch or check failed, else 0.
int prefetch_images(const Context& context, const std::vector<std::string>& kernels,
                    const std::string& from, Log& log);

} // namespace ksx::activator

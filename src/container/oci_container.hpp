// A developer container from an OCI image in a registry, without a container daemon.
#pragma once

#include "container/container.hpp"
#include "manifest/manifest.hpp"

#include <filesystem>
#include <string>

namespace ksx::container {

struct ImageRootfs {
    std::filesystem::path root;
    std::string description; // for messages: "oci registry/repo:tag (sha256:0123...)"
};

// Pulls `oci.image` for its platform (fetch::RegistryClient) and applies its layers into
// <cache>/containers/oci-<manifest digest>/rootfs, made atomically and reused by later runs. A
// tag is resolved again each run; when the registry cannot be reached, the image the tag
// named last time is used if its root filesystem is cached, with a message saying so.
ImageRootfs oci_rootfs(const manifest::OciContainer& oci, const PrepareOptions& options);

} // namespace ksx::container

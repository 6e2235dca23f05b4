// The text files of a release directory: SHA256SUMS, index.json and sysupdate transfers.
#pragma once

#include "publish/release_image.hpp"

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace ksx::publish {

// "<sha256>  <file>\n" per file, sorted by file name: the format sha256sum writes and
// systemd-sysupdate reads for a url-file source.
std::string sha256sums(const std::vector<ReleaseFile>& files);

// index.json (format 1): the images sorted by file name with name, version, kernel, os,
// architecture, sha256, size, root hash, signer, build time, modules and sidecars; the
// activator binary when the release carries one. Depends on the inputs only. A split build's
// shared image has "kernel": null and "userspace": true; its modules images
// "userspace_version".
std::string release_index(const std::vector<ReleaseImage>& images,
                          const std::optional<ReleaseFile>& activator);

// The systemd-sysupdate transfer files that fetch images from `base_url` into the activator's
// store, keyed by their path relative to the release: one directory per kernel release,
// "sysupdate.d/<kernel>/<name>.conf" for the image and "<name>.<sidecar>.conf" for each sidecar
// kind any of its versions has, each also as ".transfer" (systemd-sysupdate 251-256 reads only
// *.conf, 257 and later *.transfer, and *.conf only when there is no *.transfer). `verify`:
// SHA256SUMS is signed (SHA256SUMS.gpg), and sysupdate is to check it. A node passes the
// directory of the kernel it is about to boot to `systemd-sysupdate --definitions=`. Kernel
// releases differ between OS releases, so a release holding several OS releases gets one
// directory per kernel of each; InputError when one extension has images of two OS identities
// for one kernel (the patterns could not tell them apart). A kernel directory with a split
// build's modules images also gets "<name>-userspace.conf"/".transfer" (pattern
// "<name>-userspace_@v.raw") and one per sidecar kind of the shared images of that OS release.
std::map<std::string, std::string> sysupdate_transfers(const std::vector<ReleaseImage>& images,
                                                       const std::string& base_url, bool verify);

// "ID=debian VERSION_ID=12 ARCHITECTURE=x86-64" (SYSEXT_LEVEL= instead when the image has it).
std::string os_identity(const ReleaseImage& image);

// "2024-01-02T03:04:05Z".
std::string utc_time(std::uint32_t seconds);

} // namespace ksx::publish

// The local files a manifest builds from, as text a cache key can cover: editing a `path:`
// source, a patch or a `files:` entry changes the key of every plan entry.
#pragma once

#include "manifest/manifest.hpp"

#include <filesystem>
#include <string>
#include <vector>

namespace ksx::plan {

// One line per input, in manifest order, named by its field (never by its absolute path, so
// checkouts in different directories agree): "sources[0] tree <digest>", "patches[1] file
// <sha256>", "files[0] file <sha256>", "container tree|file <digest>" (a rootfs directory or
// tarball), and "<field> cert <sha256>" for the signing certificates of the manifest and
// `extra_certs` ("absent" when a certificate is not there yet). Private keys are never read.
// A tree digest covers each entry's relative path, type, executable bit, content and link
// target, in sorted order; `.git` directories are left out. InputError when a source, patch
// or file is missing.
std::string local_inputs(const manifest::Manifest& manifest,
                         const std::vector<std::filesystem::path>& extra_certs);

// The digest of a directory tree as described above.
std::string tree_digest(const std::filesystem::path& dir);

} // namespace ksx::plan

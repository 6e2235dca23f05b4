// `kmod-sysext publish`: merges shard directories into one release directory, atomically.
#pragma once

#include "publish/release_image.hpp"

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace ksx::publish {

struct PublishOptions {
    std::vector<std::filesystem::path> from; // shard directories holding *.raw and sidecars
    std::filesystem::path to;                // the release directory
    std::string base_url;                    // where the release is served; no transfers if ""
    std::optional<std::filesystem::path> activator; // kmod-sysext-activate to publish with it
    std::vector<std::filesystem::path> certs;       // certificates that name the signer
    std::string gpg_key;                            // sign SHA256SUMS with this key when set
    std::filesystem::path gpg_homedir;              // GnuPG home; gpg's default when empty
};

struct PublishResult {
    std::vector<ReleaseImage> images; // everything in the release, sorted by file name
    bool changed = false;             // false: the release already had exactly this content
};

// The release directory `to` afterwards holds every image already in it plus those of the
// shards (hard links when on the same file system), their sidecars, SHA256SUMS (and
// SHA256SUMS.gpg), index.json, sysupdate.d/ and the activator. The new release is built next
// to `to` and swapped in with one rename, so a reader sees the old or the new release, never a
// mix; when the result equals the current release nothing is touched. Two files of the same
// name with different contents are an InputError, and the release is left as it was.
// Publishers into one release take turns (flock on ".<release>.lock" beside it); staging
// directories left by killed publishers are removed.
PublishResult publish_release(const PublishOptions& options);

} // namespace ksx::publish

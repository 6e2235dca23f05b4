// `publish --ostree REPO`: each image's tree as an OSTree commit (libostree, archive mode).
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace ksx::publish {

struct OstreeOptions {
    std::filesystem::path repo;              // created in archive mode when missing
    std::vector<std::filesystem::path> from; // shard directories holding *.raw
    std::string gpg_key;                     // sign commits and the summary when set
    std::filesystem::path gpg_homedir;
};

struct OstreeCommit {
    // kmod-sysext/<name>/<arch>/<kernel>; a shared userspace image's
    // kmod-sysext/<name>-userspace/<arch>/<ID>-<VERSION_ID or SYSEXT_LEVEL>
    std::string ref;
    std::string checksum; // the commit
    bool created = false; // false: the ref already pointed at this content
};

// Commits each image to its ref. Files are owned by root, carry no xattrs, and the commit time
// is the image's mkfs time, so the same image gives the same commit checksum in any repo
// (the parent is the ref's previous commit, none in a new repo). An image whose tree and
// metadata equal the ref's current commit leaves the ref alone, but that commit is signed
// with gpg_key when it lacks its signature (a repository first published unsigned). Metadata:
// "version", "kmod-sysext.name", "kmod-sysext.kernel" (a shared userspace image:
// "kmod-sysext.userspace" true instead), "kmod-sysext.image-sha256", "kmod-sysext.root-hash"
// when the image has a .roothash, "kmod-sysext.userspace-version" for a split build's modules. The
// summary is regenerated (and signed). The same image file in two shards is committed once; two
// different files (or sidecars) of one name are an InputError, before the repository is touched.
std::vector<OstreeCommit> commit_to_ostree(const OstreeOptions& options);

// A kernel release as a ref component: characters OSTree does not allow in refs ('+') become
// '_'.
std::string ostree_ref_component(const std::string& text);

} // namespace ksx::publish

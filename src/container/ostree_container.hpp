// A developer container from an OSTree commit (libostree), without a container daemon.
#pragma once

#include "container/container.hpp"
#include "container/oci_container.hpp"
#include "manifest/manifest.hpp"

namespace ksx::container {

// Pulls `ostree.ref` (or the pinned `ostree.commit`) from the remote URL or the local
// repository into the cache repository <cache>/ostree/repo (archive mode; one remote per URL
// and key set), checking the commit's GPG signature against `gpg_keys` when given, then
// checks the commit out, copying every file (user mode: no hard links into the repository),
// into <cache>/containers/ostree-<commit>/rootfs, made atomically and reused by later runs.
// An unknown ref or commit throws InputError; when an http(s) remote cannot be reached, the
// commit the ref named last time is used if its checkout is cached, with a message.
ImageRootfs ostree_rootfs(const manifest::OstreeContainer& ostree, const PrepareOptions& options);

} // namespace ksx::container

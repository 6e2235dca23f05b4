// The `select` verb: link the image built for the running kernel into /run/extensions.
#pragma once

#include "activator/context.hpp"
#include "activator/log.hpp"

namespace ksx::activator {

// For every extension in the store, links the newest (or pinned) image for context.kernel as
// /run/extensions/<name>.raw, with its sidecars, once it passed check_image() under the node's
// trust policy (a refused image: one warning, nothing linked for that extension, no fallback to
// an older version; the .roothash.p7s only when its signer is in /etc/verity.d, where
// systemd-sysext checks it again); records each check in /run/kmod-sysext/verified; removes links
// of a previous run that are no longer wanted and never touches files it did not make. Returns the
// exit status: 0, or 1 when an error was logged (the others are still linked).
int select_images(const Context& context, Log& log);

} // namespace ksx::activator

// What each image of a build depends on, for the build cache. No image depends on the list of
// kernels (each kernel's own spec and release are keyed apart), so adding a kernel rebuilds no
// other. With `userspace: shared`, a kernel's modules image holds nothing of `packages:`,
// `relocate:` or `files:`, and the shared userspace image holds no build (sources, patches,
// build commands, modules): a new package rebuilds no kernel, a new patch repacks no userspace.
#pragma once

#include "plan/plan.hpp"

namespace ksx::plan {

enum class ImagePart {
    Kernel,    // a kernel's image with its modules and the userspace (`userspace: per-kernel`)
    Modules,   // a kernel's modules image (`userspace: shared`)
    Userspace, // the shared userspace image
};

// `inputs` narrowed to what `part` depends on: the manifest text without the kernel lists (the
// top-level `kernels:` and each target's) and the other part's top-level keys, re-emitted by
// yaml-cpp so that comments and layout drop out too; the local inputs without the other part's
// lines. `releases` is kept. Throws Error when the text is not one YAML mapping.
PlanInputs inputs_of_part(const PlanInputs& inputs, ImagePart part);

} // namespace ksx::plan

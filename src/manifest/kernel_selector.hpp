// Deciding whether a kernel release falls under a KernelSelector.
#pragma once

#include "manifest/manifest.hpp"

#include <string>
#include <string_view>
#include <vector>

namespace ksx::manifest {

// Compares dotted kernel versions number by number; a missing number counts as 0.
// Returns <0, 0 or >0.
int compare_kernel_versions(std::string_view a, std::string_view b);

// The version at the start of a release: "6.12.41+deb12-amd64" gives "6.12.41".
std::string_view release_version(std::string_view release);

// True when `release` matches `selector.match` (a shell pattern), is at least `min` and at
// most `max` (compared at max's precision: max "6.2" takes 6.2.9). An empty selector matches.
bool selects(const KernelSelector& selector, std::string_view release);

// For an entry with `kernels:` and `targets:`: true when `selector` selects `release` and
// `targets` is empty or names `target`.
bool selects(const KernelSelector& selector, const std::vector<std::string>& targets,
             std::string_view target, std::string_view release);

// "match \"6.1.*\", min 6.12", for messages.
std::string describe(const KernelSelector& selector);

// describe(selector), then ", targets a, b" when `targets` names any.
std::string describe(const KernelSelector& selector, const std::vector<std::string>& targets);

} // namespace ksx::manifest

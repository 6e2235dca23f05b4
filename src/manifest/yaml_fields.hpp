// Reading one map of a manifest against the keys it may have.
#pragma once

#include "manifest/yaml_value.hpp"

#include <functional>
#include <initializer_list>
#include <string_view>
#include <vector>

namespace ksx::manifest::detail {

enum class Presence { Required, Optional };

// A key a map may have and what to do with its value.
struct FieldRule {
    std::string_view key;
    Presence presence;
    std::function<void(const Value&)> read;
};

// Keys of which a map must have exactly one, e.g. {"version_id", "sysext_level"}.
using OneOf = std::initializer_list<std::string_view>;

// Checks that `map` is a map, then walks its entries in document order: a key that is not a
// scalar, not in `rules` or given twice throws; otherwise the rule's `read` gets the value.
// After the walk, a missing required key or a broken `one_of` group throws, positioned at
// the map. Unknown-key messages list the keys in the order of `rules`.
void read_map(const Value& map, const std::vector<FieldRule>& rules,
              std::initializer_list<OneOf> one_of = {});

} // namespace ksx::manifest::detail

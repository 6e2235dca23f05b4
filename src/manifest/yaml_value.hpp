// One node of a manifest with its field path, read with the manifest's type rules.
#pragma once

#include "manifest/source_text.hpp"

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>
#include <yaml-cpp/node/impl.h> // inline definitions (operator=) used by Value copies
#include <yaml-cpp/node/node.h>

namespace ksx::manifest::detail {

// "a map", "a sequence", "a scalar" or "null", for "expected a map, got null".
std::string kind_name(YAML::NodeType::value kind);

// `text` in double quotes, with '"', '\' and control characters escaped; past 80 bytes cut
// with an ellipsis and followed by its length ("\"abc…\" (10485760 bytes)").
std::string quote(std::string_view text);

class Value {
public:
    // The document's root node.
    Value(const SourceText& source, YAML::Node node);

    const YAML::Node& node() const { return node_; }
    // "kernels[1].release"; empty for the root.
    const std::string& path() const { return path_; }
    // Where messages about this value point: the node, or its key when the value is empty.
    YAML::Mark mark() const { return mark_; }
    Location location() const { return source_->location(mark_); }
    bool is_null() const { return node_.IsNull(); }

    // Throws ManifestError "path: what" positioned at this value, or at `mark`.
    [[noreturn]] void fail(const std::string& what) const;
    [[noreturn]] void fail_at(YAML::Mark mark, const std::string& what) const;

    // Throws "path: expected a map, got a scalar" unless the node has that kind.
    void expect(YAML::NodeType::value kind) const;

    // A scalar's text as written: `version: 1.10` gives "1.10".
    std::string text() const;
    // `true` or `false`, nothing else.
    bool boolean() const;
    // A decimal integer, optionally signed; the whole text must be the number.
    std::int64_t integer() const;
    // A sequence's items, with paths "path[i]".
    std::vector<Value> items() const;
    // The value under `key` of this map, with path "path.key".
    Value field(const YAML::Node& key, const YAML::Node& value) const;

private:
    Value(const SourceText& source, YAML::Node node, std::string path, YAML::Mark mark);

    const SourceText* source_;
    YAML::Node node_;
    std::string path_;
    YAML::Mark mark_;
};

} // namespace ksx::manifest::detail

#include "manifest/yaml_fields.hpp"

#include <algorithm>
#include <string>
#include <yaml-cpp/yaml.h>

namespace ksx::manifest::detail {

namespace {

std::string list_keys(const std::vector<FieldRule>& rules) {
    std::string out;
    for (const auto& rule : rules) {
        out += out.empty() ? "" : ", ";
        out += rule.key;
    }
    return out;
}

// `"a", "b" and "c"`
std::string list_quoted(OneOf keys) {
    std::string out;
    size_t i = 0;
    for (auto key : keys) {
        if (i > 0) {
            out += i + 1 == keys.size() ? " and " : ", ";
        }
        out += quote(key);
        ++i;
    }
    return out;
}

} // namespace

void read_map(const Value& map, const std::vector<FieldRule>& rules,
              std::initializer_list<OneOf> one_of) {
    map.expect(YAML::NodeType::Map);
    std::vector<std::string> seen;
    for (const auto& entry : map.node()) {
        const YAML::Node& key = entry.first;
        if (!key.IsScalar()) {
            map.fail_at(key.Mark(), "expected a scalar key, got " + kind_name(key.Type()));
        }
        const auto& name = key.Scalar();
        auto rule = std::find_if(rules.begin(), rules.end(),
                                 [&](const FieldRule& r) { return r.key == name; });
        if (rule == rules.end()) {
            map.fail_at(key.Mark(), "unknown key " + quote(name) +
                                        " (expected one of: " + list_keys(rules) + ")");
        }
        if (std::find(seen.begin(), seen.end(), name) != seen.end()) {
            map.fail_at(key.Mark(), "duplicate key " + quote(name));
        }
        seen.push_back(name);
        if (rule->read) {
            rule->read(map.field(key, entry.second));
        }
    }
    auto present = [&](std::string_view key) {
        return std::find(seen.begin(), seen.end(), key) != seen.end();
    };
    for (const auto& rule : rules) {
        if (rule.presence == Presence::Required && !present(rule.key)) {
            map.fail("missing required field " + quote(rule.key));
        }
    }
    for (auto group : one_of) {
        if (std::count_if(group.begin(), group.end(), present) != 1) {
            map.fail("set exactly one of " + list_quoted(group));
        }
    }
}

} // namespace ksx::manifest::detail

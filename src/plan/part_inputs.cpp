#include "plan/part_inputs.hpp"

#include "util/error.hpp"
#include "util/lines.hpp"

#include <algorithm>
#include <array>
#include <string_view>
#include <yaml-cpp/yaml.h>

namespace ksx::plan {

namespace {

// The top-level keys only the shared userspace image depends on.
constexpr std::array<std::string_view, 3> kUserspaceKeys{"packages", "relocate", "files"};
// The top-level keys only the modules depend on.
constexpr std::array<std::string_view, 5> kModulesKeys{"source", "sources", "patches", "build",
                                                       "modules"};

template <std::size_t N>
bool is_one_of(std::string_view key, const std::array<std::string_view, N>& keys) {
    return std::find(keys.begin(), keys.end(), key) != keys.end();
}

bool dropped(std::string_view key, ImagePart part) {
    switch (part) {
    case ImagePart::Kernel:
        return key == "kernels";
    case ImagePart::Modules:
        return key == "kernels" || is_one_of(key, kUserspaceKeys);
    case ImagePart::Userspace:
        return key == "kernels" || is_one_of(key, kModulesKeys);
    }
    return false;
}

std::string narrowed_text(const std::string& text, ImagePart part) {
    YAML::Node root;
    try {
        root = YAML::Load(text);
    } catch (const YAML::Exception& e) {
        throw Error(std::string("manifest text for the build cache: ") + e.what());
    }
    if (!root.IsMap()) {
        throw Error("manifest text for the build cache: not a mapping");
    }
    YAML::Node kept(YAML::NodeType::Map);
    for (const auto& entry : root) {
        const auto key = entry.first.Scalar();
        if (dropped(key, part)) {
            continue;
        }
        auto value = YAML::Clone(entry.second);
        if (key == "targets" && value.IsSequence()) {
            for (auto target : value) {
                if (target.IsMap()) {
                    target.remove("kernels");
                }
            }
        }
        kept[key] = value;
    }
    YAML::Emitter out;
    out << kept;
    return out.c_str();
}

// Whether a local_inputs() line ("<field> <kind> <digest>") belongs to the other part.
bool other_part(std::string_view line, ImagePart part) {
    auto field = line.substr(0, line.find(' '));
    switch (part) {
    case ImagePart::Kernel:
        return false;
    case ImagePart::Modules:
        return field.starts_with("files[");
    case ImagePart::Userspace:
        return field.starts_with("source") || field.starts_with("patches[");
    }
    return false;
}

} // namespace

PlanInputs inputs_of_part(const PlanInputs& inputs, ImagePart part) {
    PlanInputs narrowed;
    narrowed.manifest_text = narrowed_text(inputs.manifest_text, part);
    for_each_line(inputs.local_inputs, [&](std::string_view line, int) {
        if (!other_part(line, part)) {
            narrowed.local_inputs += std::string(line) + '\n';
        }
    });
    narrowed.releases = inputs.releases;
    return narrowed;
}

} // namespace ksx::plan

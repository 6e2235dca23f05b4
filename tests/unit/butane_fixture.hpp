// Butane read back: the Ignition JSON a Butane config stands for, by Butane's rules for the
// fields kmod-sysext writes (there is no butane in Debian to translate it for us).
#pragma once

#include "ignition/emit.hpp"

#include <nlohmann/json.hpp>
#include <string>
#include <yaml-cpp/yaml.h>

namespace ksx::test {

// Butane reads YAML 1.1, where 0755 is octal.
inline int octal_mode(const YAML::Node& node) {
    return std::stoi(node.as<std::string>(), nullptr, 8);
}

inline nlohmann::json butane_to_ignition(const YAML::Node& butane) {
    nlohmann::json out;
    out["ignition"]["version"] = "3.3.0";
    for (const auto& d : butane["storage"]["directories"]) {
        out["storage"]["directories"].push_back(
            {{"path", d["path"].as<std::string>()}, {"mode", octal_mode(d["mode"])}});
    }
    for (const auto& f : butane["storage"]["files"]) {
        nlohmann::json contents;
        if (f["contents"]["inline"]) {
            contents["source"] = ignition::data_url(f["contents"]["inline"].as<std::string>());
        } else {
            contents["source"] = f["contents"]["source"].as<std::string>();
        }
        if (f["contents"]["verification"]) {
            contents["verification"]["hash"] =
                f["contents"]["verification"]["hash"].as<std::string>();
        }
        out["storage"]["files"].push_back({{"path", f["path"].as<std::string>()},
                                           {"mode", octal_mode(f["mode"])},
                                           {"contents", contents}});
    }
    for (const auto& u : butane["systemd"]["units"]) {
        nlohmann::json unit{{"name", u["name"].as<std::string>()},
                            {"contents", u["contents"].as<std::string>()}};
        if (u["enabled"]) {
            unit["enabled"] = u["enabled"].as<bool>();
        }
        out["systemd"]["units"].push_back(unit);
    }
    return out;
}

} // namespace ksx::test

#include "ignition/emit.hpp"

#include "util/error.hpp"

#include <cstdio>
#include <nlohmann/json.hpp>

namespace ksx::ignition {

namespace {

// JSON strings are valid YAML double-quoted scalars.
std::string quoted(const std::string& text) {
    return nlohmann::json(text).dump();
}

std::string octal(unsigned mode) {
    char buffer[8];
    std::snprintf(buffer, sizeof buffer, "0%o", mode);
    return buffer;
}

// `text` as a YAML literal block indented by `indent`, or a quoted scalar when a block
// cannot hold it exactly (leading blank on the first line, empty text).
std::string block(const std::string& text, const std::string& indent) {
    if (text.empty() || text[0] == ' ' || text[0] == '\n') {
        return " " + quoted(text) + "\n";
    }
    std::string chomp = text.back() != '\n' ? "-" : text.ends_with("\n\n") ? "+" : "";
    std::string out = " |" + chomp + "\n";
    std::size_t start = 0;
    while (start < text.size()) {
        auto end = text.find('\n', start);
        if (end == std::string::npos) {
            end = text.size();
        }
        auto line = text.substr(start, end - start);
        out += line.empty() ? "\n" : indent + line + "\n";
        start = end + 1;
    }
    return out;
}

} // namespace

Variant parse_variant(const std::string& text) {
    if (text == "flatcar") {
        return Variant::Flatcar;
    }
    if (text == "fcos") {
        return Variant::Fcos;
    }
    throw InputError("--variant: \"" + text + "\" is not flatcar or fcos");
}

std::string data_url(const std::string& text) {
    static const char* hex = "0123456789ABCDEF";
    std::string out = "data:,";
    for (unsigned char c : text) {
        bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                     c == '-' || c == '.' || c == '_' || c == '~';
        if (plain) {
            out += static_cast<char>(c);
        } else {
            out += '%';
            out += hex[c >> 4];
            out += hex[c & 15];
        }
    }
    return out;
}

std::string to_ignition(const NodeConfig& config) {
    nlohmann::ordered_json root;
    root["ignition"] = {{"version", "3.3.0"}};
    auto directories = nlohmann::ordered_json::array();
    for (const auto& d : config.directories) {
        nlohmann::ordered_json j;
        j["path"] = d;
        j["mode"] = 0755;
        directories.push_back(j);
    }
    auto files = nlohmann::ordered_json::array();
    for (const auto& f : config.files) {
        nlohmann::ordered_json contents;
        contents["source"] = f.source.empty() ? data_url(f.text) : f.source;
        if (!f.sha256.empty()) {
            contents["verification"] = {{"hash", "sha256-" + f.sha256}};
        }
        nlohmann::ordered_json j;
        j["path"] = f.path;
        j["mode"] = f.mode;
        j["contents"] = contents;
        files.push_back(j);
    }
    root["storage"]["directories"] = directories;
    root["storage"]["files"] = files;
    auto units = nlohmann::ordered_json::array();
    for (const auto& u : config.units) {
        nlohmann::ordered_json j;
        j["name"] = u.name;
        if (u.enabled) {
            j["enabled"] = *u.enabled;
        }
        j["contents"] = u.contents;
        units.push_back(j);
    }
    root["systemd"]["units"] = units;
    return root.dump(2) + "\n";
}

std::string to_butane(const NodeConfig& config, Variant variant) {
    std::string out = variant == Variant::Flatcar ? "variant: flatcar\nversion: 1.0.0\n"
                                                  : "variant: fcos\nversion: 1.4.0\n";
    out += "storage:\n  directories:\n";
    for (const auto& d : config.directories) {
        out += "    - path: " + quoted(d) + "\n      mode: 0755\n";
    }
    out += "  files:\n";
    for (const auto& f : config.files) {
        out += "    - path: " + quoted(f.path) + "\n      mode: " + octal(f.mode) +
               "\n      contents:\n";
        if (f.source.empty()) {
            out += "        inline:" + block(f.text, "          ");
        } else {
            out += "        source: " + quoted(f.source) + "\n";
            if (!f.sha256.empty()) {
                out +=
                    "        verification:\n          hash: " + quoted("sha256-" + f.sha256) + "\n";
            }
        }
    }
    out += "systemd:\n  units:\n";
    for (const auto& u : config.units) {
        out += "    - name: " + quoted(u.name) + "\n";
        if (u.enabled) {
            out += std::string("      enabled: ") + (*u.enabled ? "true" : "false") + "\n";
        }
        out += "      contents:" + block(u.contents, "        ");
    }
    return out;
}

} // namespace ksx::ignition

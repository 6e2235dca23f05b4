#include "manifest/container_parse.hpp"

#include "manifest/manifest_rules.hpp"
#include "manifest/path_value.hpp"
#include "manifest/yaml_fields.hpp"

#include <algorithm>
#include <string_view>

namespace ksx::manifest::detail {

namespace fs = std::filesystem;

namespace {

// An OSTree ref: components of [A-Za-z0-9_-][A-Za-z0-9._-]* separated by '/'.
bool is_ostree_ref(std::string_view text) {
    size_t start = 0;
    while (start <= text.size()) {
        size_t end = std::min(text.find('/', start), text.size());
        std::string_view part = text.substr(start, end - start);
        auto word = [](char c) {
            return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                   c == '_' || c == '-';
        };
        if (part.empty() || !word(part.front()) ||
            !std::all_of(part.begin(), part.end(), [&](char c) { return word(c) || c == '.'; })) {
            return false;
        }
        start = end + 1;
    }
    return true;
}

bool is_checksum(std::string_view text) {
    return text.size() == 64 && text.find_first_not_of("0123456789abcdef") == std::string::npos;
}

} // namespace

OciContainer read_oci(const Value& value) {
    OciContainer oci;
    oci.platform = host_oci_platform();
    read_map(
        value,
        {
            {"image", Presence::Required,
             [&](const Value& v) {
                 auto text = v.text();
                 auto parsed = parse_image_reference(text);
                 if (!parsed.problem.empty()) {
                     v.fail(quote(text) + " is not an image reference: it " + parsed.problem);
                 }
                 oci.image = parsed.reference;
             }},
            {"platform", Presence::Optional,
             [&](const Value& v) {
                 auto text = v.text();
                 auto parsed = parse_oci_platform(text);
                 if (!parsed.problem.empty()) {
                     v.fail(quote(text) + " is not a platform: it " + parsed.problem);
                 }
                 oci.platform = parsed.platform;
             }},
            {"insecure", Presence::Optional, [&](const Value& v) { oci.insecure = v.boolean(); }},
        });
    return oci;
}

OstreeContainer read_ostree(const Value& value, const PathRoots& base) {
    OstreeContainer ostree;
    read_map(value, {
                        {"repo", Presence::Required,
                         [&](const Value& v) {
                             auto text = v.text();
                             if (text.starts_with("http://") || text.starts_with("https://")) {
                                 if (!is_mirror_url(text)) {
                                     v.fail(quote(text) + " is not a valid URL");
                                 }
                                 ostree.url = text;
                             } else if (text.find("://") != std::string::npos) {
                                 v.fail(quote(text) + " is neither an http:// or https:// URL "
                                                      "nor a path");
                             } else {
                                 ostree.repo = existing_path(v, base, fs::file_type::directory);
                             }
                         }},
                        {"ref", Presence::Required,
                         [&](const Value& v) {
                             ostree.ref = v.text();
                             if (!is_ostree_ref(ostree.ref)) {
                                 v.fail(quote(ostree.ref) +
                                        " is not an OSTree ref (components of letters, digits "
                                        "and \"._-\" separated by '/')");
                             }
                         }},
                        {"commit", Presence::Optional,
                         [&](const Value& v) {
                             ostree.commit = v.text();
                             if (!is_checksum(ostree.commit)) {
                                 v.fail(quote(ostree.commit) +
                                        " is not an OSTree commit checksum (64 lower-case hex "
                                        "digits)");
                             }
                         }},
                        {"gpg_keys", Presence::Optional,
                         [&](const Value& v) {
                             auto items = v.items();
                             if (items.empty()) {
                                 v.fail("must not be empty");
                             }
                             for (const auto& item : items) {
                                 ostree.gpg_keys.push_back(
                                     existing_path(item, base, fs::file_type::regular));
                             }
                         }},
                    });
    return ostree;
}

std::vector<std::string> apt_option_list(const Value& value) {
    std::vector<std::string> options;
    std::vector<std::string> names;
    std::vector<std::string> paths;
    for (const auto& item : value.items()) {
        auto text = item.text();
        auto eq = text.find('=');
        auto name = text.substr(0, eq);
        if (eq == std::string::npos || !is_apt_option_name(name)) {
            item.fail(quote(text) +
                      " is not an apt option \"Name=value\" (a name such as "
                      "Acquire::Check-Valid-Until: letters, digits and \"_.+-\" in parts "
                      "joined by \"::\")");
        }
        auto value_text = std::string_view(text).substr(eq + 1);
        if (has_control_char(value_text) || value_text.find('"') != std::string_view::npos) {
            item.fail(quote(text) + ": the value must not hold '\"' or control characters "
                                    "(apt's configuration files cannot quote them)");
        }
        auto seen = std::find(names.begin(), names.end(), name);
        if (seen != names.end()) {
            item.fail("sets " + name + " again (" +
                      paths[static_cast<size_t>(seen - names.begin())] + " sets it)");
        }
        options.push_back(text);
        names.push_back(name);
        paths.push_back(item.path());
    }
    return options;
}

} // namespace ksx::manifest::detail

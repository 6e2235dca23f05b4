#include "manifest/source_parse.hpp"

#include "manifest/kernel_selector.hpp"
#include "manifest/manifest_rules.hpp"
#include "manifest/path_value.hpp"
#include "manifest/yaml_fields.hpp"

#include <algorithm>
#include <optional>
#include <system_error>

namespace ksx::manifest::detail {

namespace fs = std::filesystem;

namespace {

const std::string kPackageRule = " is not a valid Debian package name (lower-case letters, digits "
                                 "and \"+.-\", starting with a letter or digit, at least 2 "
                                 "characters)";

bool is_kernel_version(std::string_view text) {
    // 6, 6.12, 6.1.90
    if (text.empty() || text.front() == '.' || text.back() == '.' ||
        text.find("..") != std::string_view::npos) {
        return false;
    }
    return std::all_of(text.begin(), text.end(),
                       [](char c) { return (c >= '0' && c <= '9') || c == '.'; });
}

std::string read_kernel_version(const Value& value) {
    auto text = value.text();
    if (!is_kernel_version(text)) {
        value.fail(quote(text) + " is not a kernel version (numbers separated by '.', e.g. "
                                 "\"6.12\")");
    }
    return text;
}

std::string read_package_name(const Value& value) {
    auto name = value.text();
    if (!is_debian_package(name)) {
        value.fail(quote(name) + kPackageRule);
    }
    return name;
}

std::string read_package_version(const Value& value) {
    auto text = value.text();
    // Debian versions: [epoch:]upstream[-revision], letters, digits and ".+~-:".
    bool ok = !text.empty() && text[0] >= '0' && text[0] <= '9' &&
              std::all_of(text.begin(), text.end(), [](char c) {
                  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
                         (c >= 'A' && c <= 'Z') || c == '.' || c == '+' || c == '~' || c == '-' ||
                         c == ':';
              });
    if (!ok) {
        value.fail(quote(text) + " is not a valid Debian version (starting with a digit; "
                                 "letters, digits and \".+~-:\")");
    }
    return text;
}

std::string read_url(const Value& value) {
    auto text = value.text();
    if (!is_mirror_url(text)) {
        value.fail(quote(text) + " is not an http:// or https:// URL");
    }
    return text;
}

std::string read_sha256(const Value& value) {
    auto text = value.text();
    if (text.size() != 64 || !std::all_of(text.begin(), text.end(), [](char c) {
            return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
        })) {
        value.fail(quote(text) + " is not a SHA-256 (64 lower-case hex digits)");
    }
    return text;
}

// A relative path inside a tree: no "..", not absolute, no control characters.
std::string read_inner_path(const Value& value) {
    auto text = value.text();
    if (text.empty()) {
        value.fail("must not be empty");
    }
    const fs::path path(text);
    if (path.is_absolute()) {
        value.fail(quote(text) + " must be a relative path");
    }
    if (std::find(path.begin(), path.end(), "..") != path.end()) {
        value.fail(quote(text) + " must not contain \"..\"");
    }
    if (has_control_char(text)) {
        value.fail("must not contain control characters");
    }
    return text;
}

std::string read_normal_absolute(const Value& value) {
    auto text = value.text();
    if (!text.starts_with('/') || !is_normal_absolute(text)) {
        value.fail(quote(text) + " is not a normal absolute path (no \".\" or \"..\" "
                                 "components, no \"//\", no trailing \"/\")");
    }
    return text;
}

void read_dkms(const Value& value, SourceSpec& source) {
    auto text = value.text();
    if (text == "true") {
        source.dkms = DkmsMode::On;
    } else if (text == "false") {
        source.dkms = DkmsMode::Off;
    } else if (text == "auto") {
        source.dkms = DkmsMode::Auto;
    } else {
        source.dkms = DkmsMode::On;
        source.dkms_conf = read_inner_path(value);
    }
}

SourceSpec read_source_map(const Value& value, const PathRoots& base, bool in_list,
                           TargetRefs& refs) {
    SourceSpec source;
    source.field = value.path();
    source.where = value.location();
    std::optional<Value> sha256, version, release, subdir, unsupported;
    std::vector<Value> source_keys; // every key but kernels and targets, for `unsupported:`
    std::vector<FieldRule> rules{
        {"path", Presence::Optional,
         [&](const Value& v) {
             source.kind = SourceSpec::Kind::Path;
             source.path = existing_path(v, base, fs::file_type::directory);
         }},
        {"apt", Presence::Optional,
         [&](const Value& v) {
             source.kind = SourceSpec::Kind::Apt;
             source.package = read_package_name(v);
         }},
        {"url", Presence::Optional,
         [&](const Value& v) {
             source.kind = SourceSpec::Kind::Url;
             source.url = read_url(v);
         }},
        {"version", Presence::Optional,
         [&](const Value& v) {
             version = v;
             source.version = read_package_version(v);
         }},
        {"release", Presence::Optional,
         [&](const Value& v) {
             release = v;
             source.release = read_suite_name(v);
         }},
        {"sha256", Presence::Optional,
         [&](const Value& v) {
             sha256 = v;
             source.sha256 = read_sha256(v);
         }},
        {"subdir", Presence::Optional,
         [&](const Value& v) {
             subdir = v;
             source.subdir = read_inner_path(v);
         }},
        {"dkms", Presence::Optional, [&](const Value& v) { read_dkms(v, source); }},
        {"patches", Presence::Optional,
         [&](const Value& v) { source.patches = read_patches(v, base, refs); }},
        {"image_version", Presence::Optional,
         [&](const Value& v) { source.image_version = read_version(v); }},
    };
    for (auto& rule : rules) {
        rule.read = [read = std::move(rule.read), &source_keys](const Value& v) {
            source_keys.push_back(v);
            read(v);
        };
    }
    if (in_list) {
        rules.push_back({"kernels", Presence::Optional,
                         [&](const Value& v) { source.kernels = read_selector(v); }});
        rules.push_back({"targets", Presence::Optional,
                         [&](const Value& v) { source.targets = read_target_names(v, refs); }});
        rules.push_back({"unsupported", Presence::Optional, [&](const Value& v) {
                             unsupported = v;
                             source.kind = SourceSpec::Kind::Unsupported;
                             source.unsupported = v.text();
                             if (source.unsupported.find_first_not_of(" \t") == std::string::npos) {
                                 v.fail("must not be empty: say why these kernels get no image");
                             }
                             if (has_control_char(source.unsupported)) {
                                 v.fail("must be one line (no control characters)");
                             }
                         }});
        read_map(value, rules, {{"path", "apt", "url", "unsupported"}});
    } else {
        read_map(value, rules, {{"path", "apt", "url"}});
    }
    if (unsupported) {
        // An entry that builds nothing takes only the keys that select kernels.
        for (const auto& key : source_keys) {
            key.fail("not with \"unsupported\" (which takes only \"kernels\" and \"targets\")");
        }
        return source;
    }
    if (source.kind != SourceSpec::Kind::Apt) {
        if (version) {
            version->fail("only for an apt: source");
        }
        if (release) {
            release->fail("only for an apt: source");
        }
    }
    if (source.kind != SourceSpec::Kind::Url && sha256) {
        sha256->fail("only for a url: source");
    }
    if (source.kind == SourceSpec::Kind::Url && !sha256) {
        value.fail("missing required field \"sha256\" (a url: source is verified before use)");
    }
    if (source.kind == SourceSpec::Kind::Path && subdir) {
        subdir->fail("only for an apt: or url: source (name the directory in path:)");
    }
    // A local tree is known now: `auto` is decided here, and `true` checked.
    if (source.kind == SourceSpec::Kind::Path) {
        auto conf = source.path / (source.dkms_conf.empty() ? "dkms.conf" : source.dkms_conf);
        std::error_code ec;
        bool has_conf = fs::is_regular_file(conf, ec);
        if (source.dkms == DkmsMode::Auto) {
            source.dkms = has_conf ? DkmsMode::On : DkmsMode::Off;
        } else if (source.dkms == DkmsMode::On && !has_conf) {
            value.fail("dkms: " + conf.string() + " does not exist");
        }
    }
    return source;
}

} // namespace

std::string read_suite_name(const Value& value) {
    auto text = value.text();
    if (!is_suite(text)) {
        value.fail(quote(text) + " is not a valid suite (lower-case letters, digits and '-')");
    }
    return text;
}

std::string read_version(const Value& value) {
    auto version = value.text();
    if (version.size() > max_version) {
        value.fail(quote(version) + " is too long (at most " + std::to_string(max_version) +
                   " characters: it becomes part of the image's file name)");
    }
    if (!is_version(version)) {
        value.fail(quote(version) + " is not a valid version (letters, digits and \".+~-\", "
                                    "starting with a letter or digit)");
    }
    return version;
}

KernelSelector read_selector(const Value& value) {
    KernelSelector selector;
    std::optional<Value> min, max;
    read_map(value, {
                        {"match", Presence::Optional,
                         [&](const Value& v) {
                             selector.match = v.text();
                             if (selector.match.empty() || has_control_char(selector.match)) {
                                 v.fail("must be a non-empty shell pattern, e.g. \"6.1.*\"");
                             }
                         }},
                        {"min", Presence::Optional,
                         [&](const Value& v) {
                             min = v;
                             selector.min = read_kernel_version(v);
                         }},
                        {"max", Presence::Optional,
                         [&](const Value& v) {
                             max = v;
                             selector.max = read_kernel_version(v);
                         }},
                    });
    if (selector.any()) {
        value.fail("set at least one of \"match\", \"min\", \"max\"");
    }
    if (min && max && compare_kernel_versions(selector.min, selector.max) > 0) {
        max->fail(quote(selector.max) + " is lower than min " + quote(selector.min));
    }
    return selector;
}

bool is_target_name(std::string_view text) {
    if (text.empty() || text.size() > 64 || text.front() == '.' || text.front() == '-') {
        return false;
    }
    return std::all_of(text.begin(), text.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               c == '.' || c == '_' || c == '-';
    });
}

std::vector<std::string> read_target_names(const Value& value, TargetRefs& refs) {
    std::vector<std::string> names;
    std::vector<std::string> paths;
    auto items = value.items();
    if (items.empty()) {
        value.fail("must not be empty (leave \"targets\" out for every target)");
    }
    for (const auto& item : items) {
        auto name = item.text();
        auto seen = std::find(names.begin(), names.end(), name);
        if (seen != names.end()) {
            item.fail("duplicate of " + paths[static_cast<size_t>(seen - names.begin())]);
        }
        names.push_back(name);
        paths.push_back(item.path());
        refs.push_back(item);
    }
    return names;
}

std::vector<SourceSpec> read_source_entry(const Value& value, const PathRoots& base,
                                          TargetRefs& refs) {
    return {read_source_map(value, base, false, refs)};
}

std::vector<SourceSpec> read_source_list(const Value& value, const PathRoots& base,
                                         TargetRefs& refs) {
    std::vector<SourceSpec> sources;
    auto items = value.items();
    if (items.empty()) {
        value.fail("must not be empty");
    }
    for (const auto& item : items) {
        sources.push_back(read_source_map(item, base, true, refs));
    }
    return sources;
}

std::vector<PatchSpec> read_patches(const Value& value, const PathRoots& base, TargetRefs& refs) {
    std::vector<PatchSpec> patches;
    for (const auto& item : value.items()) {
        PatchSpec patch;
        patch.field = item.path();
        patch.where = item.location();
        if (item.node().IsMap()) {
            read_map(item,
                     {
                         {"file", Presence::Required,
                          [&](const Value& v) {
                              patch.file = existing_path(v, base, fs::file_type::regular);
                          }},
                         {"kernels", Presence::Optional,
                          [&](const Value& v) { patch.kernels = read_selector(v); }},
                         {"targets", Presence::Optional,
                          [&](const Value& v) { patch.targets = read_target_names(v, refs); }},
                     });
        } else {
            patch.file = existing_path(item, base, fs::file_type::regular);
        }
        patches.push_back(std::move(patch));
    }
    return patches;
}

std::vector<PackageSpec> read_packages(const Value& value, TargetRefs& refs) {
    std::vector<PackageSpec> packages;
    for (const auto& item : value.items()) {
        PackageSpec package;
        package.field = item.path();
        package.where = item.location();
        std::optional<Value> sha256, version, release;
        read_map(item,
                 {
                     {"apt", Presence::Optional,
                      [&](const Value& v) {
                          package.kind = PackageSpec::Kind::Apt;
                          package.package = read_package_name(v);
                      }},
                     {"url", Presence::Optional,
                      [&](const Value& v) {
                          package.kind = PackageSpec::Kind::Url;
                          package.url = read_url(v);
                      }},
                     {"version", Presence::Optional,
                      [&](const Value& v) {
                          version = v;
                          package.version = read_package_version(v);
                      }},
                     {"release", Presence::Optional,
                      [&](const Value& v) {
                          release = v;
                          package.release = read_suite_name(v);
                      }},
                     {"sha256", Presence::Optional,
                      [&](const Value& v) {
                          sha256 = v;
                          package.sha256 = read_sha256(v);
                      }},
                     {"kernels", Presence::Optional,
                      [&](const Value& v) { package.kernels = read_selector(v); }},
                     {"targets", Presence::Optional,
                      [&](const Value& v) { package.targets = read_target_names(v, refs); }},
                 },
                 {{"apt", "url"}});
        if (package.kind == PackageSpec::Kind::Url) {
            if (version) {
                version->fail("only for an apt: package");
            }
            if (release) {
                release->fail("only for an apt: package");
            }
            if (!sha256) {
                item.fail("missing required field \"sha256\" (a url: package is verified before "
                          "use)");
            }
        } else if (sha256) {
            sha256->fail("only for a url: package");
        }
        packages.push_back(std::move(package));
    }
    return packages;
}

std::vector<RelocateRule> read_relocate(const Value& value) {
    std::vector<RelocateRule> rules;
    for (const auto& item : value.items()) {
        RelocateRule rule;
        rule.where = item.location();
        read_map(item,
                 {
                     {"from", Presence::Required,
                      [&](const Value& v) {
                          rule.from = read_normal_absolute(v);
                          if (rule.from == "/" || rule.from == "/usr" || rule.from == "/opt") {
                              v.fail(quote(rule.from) + " is too wide: name a directory or "
                                                        "file inside it");
                          }
                          for (const auto& other : rules) {
                              if (other.from == rule.from) {
                                  v.fail("duplicate of another rule's from " + quote(rule.from));
                              }
                          }
                      }},
                     {"to", Presence::Required,
                      [&](const Value& v) {
                          rule.to = read_normal_absolute(v);
                          if (!is_under(rule.to, "/usr") && !is_under(rule.to, "/opt")) {
                              v.fail(quote(rule.to) + " must be under /usr/ or /opt/");
                          }
                      }},
                 });
        rules.push_back(std::move(rule));
    }
    return rules;
}

} // namespace ksx::manifest::detail

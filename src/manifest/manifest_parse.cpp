// `parse()`: YAML text to a validated Manifest. Each map is read with a table of its keys;
// values are checked in document order and the first problem is thrown.
#include "contract/image_name.hpp"
#include "manifest/container_parse.hpp"
#include "manifest/image_version.hpp"
#include "manifest/manifest.hpp"
#include "manifest/manifest_error.hpp"
#include "manifest/manifest_rules.hpp"
#include "manifest/path_value.hpp"
#include "manifest/source_parse.hpp"
#include "manifest/source_text.hpp"
#include "manifest/yaml_documents.hpp"
#include "manifest/yaml_fields.hpp"
#include "manifest/yaml_value.hpp"

#include <algorithm>
#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <system_error>
#include <vector>
#include <yaml-cpp/yaml.h>

namespace ksx::manifest {

namespace fs = std::filesystem;
using namespace detail;

namespace {

constexpr std::string_view api_version = "kmod-sysext/v1";
constexpr std::int64_t max_timestamp = 4294967295;
// The hashes the kernel accepts for module signatures (CONFIG_MODULE_SIG_HASH).
constexpr std::array<std::string_view, 4> module_hashes{"sha224", "sha256", "sha384", "sha512"};

template <typename List> std::string join(const List& items) {
    std::string out;
    for (const auto& item : items) {
        out += out.empty() ? "" : ", ";
        out += item;
    }
    return out;
}

// A non-empty sequence's items.
std::vector<Value> non_empty_items(const Value& value) {
    auto items = value.items();
    if (items.empty()) {
        value.fail("must not be empty");
    }
    return items;
}

// A list of Debian package names without repeats (container.debian.packages).
std::vector<std::string> package_list(const Value& value) {
    std::vector<std::string> packages;
    std::vector<std::string> paths;
    for (const auto& item : value.items()) {
        auto name = item.text();
        if (!is_debian_package(name)) {
            item.fail(quote(name) + " is not a valid Debian package name (lower-case letters, "
                                    "digits and \"+.-\", starting with a letter or digit, at "
                                    "least 2 characters)");
        }
        auto seen = std::find(packages.begin(), packages.end(), name);
        if (seen != packages.end()) {
            item.fail("duplicate of " + paths[static_cast<size_t>(seen - packages.begin())]);
        }
        packages.push_back(name);
        paths.push_back(item.path());
    }
    return packages;
}

std::string read_api_version(const Value& value) {
    auto text = value.text();
    if (text != api_version) {
        value.fail("unsupported " + quote(text) + " (expected " + quote(api_version) + ")");
    }
    return text;
}

std::string read_name(const Value& value) {
    auto name = value.text();
    if (name.size() > max_extension_name) {
        value.fail(quote(name) + " is too long (at most " + std::to_string(max_extension_name) +
                   " characters)");
    }
    if (!is_extension_name(name)) {
        value.fail(quote(name) + " is not a valid name (lower-case letters, digits and '-', "
                                 "starting with a letter or digit)");
    }
    if (name.ends_with(contract::kUserspaceSuffix)) {
        value.fail(quote(name) + " ends in \"" + std::string(contract::kUserspaceSuffix) +
                   "\", which names the shared userspace image of a split build");
    }
    return name;
}

std::string read_os_release_value(const Value& value, const char* field) {
    auto text = value.text();
    if (!is_os_release_value(text)) {
        value.fail(quote(text) + " is not a valid " + field + " (letters, digits and \"._~-\")");
    }
    return text;
}

// The keys of an OS identity (`target:`, and in each item of `targets:`), read into `target`.
std::vector<FieldRule> identity_rules(TargetOs& os) {
    auto* target = &os; // the rules outlive this call
    return {
        {"id", Presence::Required,
         [target](const Value& v) {
             target->id = v.text();
             if (!is_os_release_id(target->id)) {
                 v.fail(quote(target->id) + " is not a valid os-release ID (lower-case letters, "
                                            "digits and \"._-\", or \"_any\")");
             }
         }},
        {"version_id", Presence::Optional,
         [target](const Value& v) { target->version_id = read_os_release_value(v, "VERSION_ID"); }},
        {"sysext_level", Presence::Optional,
         [target](const Value& v) {
             target->sysext_level = read_os_release_value(v, "SYSEXT_LEVEL");
         }},
        {"architecture", Presence::Required,
         [target](const Value& v) {
             target->architecture = v.text();
             if (std::find(architectures.begin(), architectures.end(), target->architecture) ==
                 architectures.end()) {
                 v.fail(quote(target->architecture) +
                        " is not a systemd architecture (expected one of: " + join(architectures) +
                        ")");
             }
         }},
    };
}

TargetOs read_target(const Value& value) {
    TargetOs target;
    read_map(value, identity_rules(target), {{"version_id", "sysext_level"}});
    return target;
}

KernelSpec read_kernel(const Value& value) {
    KernelSpec kernel;
    kernel.where = value.location();
    std::optional<Value> suite; // for a message once the kind is known
    read_map(value,
             {
                 {"release", Presence::Optional,
                  [&](const Value& v) {
                      kernel.kind = KernelSpec::Kind::Release;
                      kernel.value = v.text();
                      if (kernel.value.size() > max_kernel_release) {
                          v.fail(quote(kernel.value) +
                                 " is too long for a kernel release (at most " +
                                 std::to_string(max_kernel_release) + " characters)");
                      }
                      if (!is_kernel_release(kernel.value)) {
                          v.fail(quote(kernel.value) +
                                 " is not a valid kernel release (letters, digits and "
                                 "\"._+~-\")");
                      }
                  }},
                 {"package", Presence::Optional,
                  [&](const Value& v) {
                      kernel.kind = KernelSpec::Kind::DebianPackage;
                      kernel.value = v.text();
                      if (!is_debian_package(kernel.value)) {
                          v.fail(quote(kernel.value) +
                                 " is not a valid Debian package name (lower-case "
                                 "letters, digits and \"+.-\", starting with a letter "
                                 "or digit, at least 2 characters)");
                      }
                  }},
                 {"suite", Presence::Optional,
                  [&](const Value& v) {
                      kernel.suite = read_suite_name(v);
                      suite.emplace(v);
                  }},
             },
             {{"release", "package"}});
    if (suite && kernel.kind != KernelSpec::Kind::DebianPackage) {
        suite->fail("goes with package: a release's headers package is installed from "
                    "whichever suite has it");
    }
    return kernel;
}

// `values` receives each item, for messages about image names found later.
std::vector<KernelSpec> read_kernels(const Value& value, std::vector<Value>& values) {
    std::vector<KernelSpec> kernels;
    std::vector<std::string> paths;
    for (const auto& item : non_empty_items(value)) {
        values.push_back(item);
        auto kernel = read_kernel(item);
        for (size_t i = 0; i < kernels.size(); ++i) {
            if (kernels[i].kind == kernel.kind && kernels[i].value == kernel.value &&
                kernels[i].suite == kernel.suite) {
                item.fail("duplicate of " + paths[i]);
            }
        }
        kernels.push_back(std::move(kernel));
        paths.push_back(item.path());
    }
    return kernels;
}

DebianContainer read_debian(const Value& value) {
    DebianContainer debian;
    if (value.is_null()) {
        return debian; // `debian:` alone: every default
    }
    read_map(
        value,
        {
            {"suite", Presence::Optional,
             [&](const Value& v) {
                 debian.suite = v.text();
                 if (!is_suite(debian.suite)) {
                     v.fail(quote(debian.suite) +
                            " is not a valid suite (lower-case letters, digits and '-')");
                 }
             }},
            {"mirror", Presence::Optional,
             [&](const Value& v) {
                 debian.mirror = v.text();
                 if (!is_mirror_url(debian.mirror)) {
                     v.fail(quote(debian.mirror) + " is not an http:// or https:// URL");
                 }
             }},
            {"components", Presence::Optional,
             [&](const Value& v) {
                 debian.components.clear();
                 std::vector<std::string> paths;
                 for (const auto& item : non_empty_items(v)) {
                     auto component = item.text();
                     if (std::find(debian_components.begin(), debian_components.end(), component) ==
                         debian_components.end()) {
                         item.fail(quote(component) +
                                   " is not a Debian component (expected one of: " +
                                   join(debian_components) + ")");
                     }
                     auto seen =
                         std::find(debian.components.begin(), debian.components.end(), component);
                     if (seen != debian.components.end()) {
                         item.fail("duplicate of " +
                                   paths[static_cast<size_t>(seen - debian.components.begin())]);
                     }
                     debian.components.push_back(component);
                     paths.push_back(item.path());
                 }
             }},
            {"packages", Presence::Optional,
             [&](const Value& v) { debian.packages = package_list(v); }},
            {"backports", Presence::Optional,
             [&](const Value& v) { debian.backports = v.boolean(); }},
            {"apt_options", Presence::Optional,
             [&](const Value& v) { debian.apt_options = apt_option_list(v); }},
        });
    return debian;
}

ContainerSpec read_container(const Value& value, const PathRoots& base) {
    ContainerSpec container;
    container.where = value.location();
    read_map(value,
             {
                 {"debian", Presence::Optional,
                  [&](const Value& v) {
                      container.kind = ContainerSpec::Kind::Debian;
                      container.debian = read_debian(v);
                  }},
                 {"rootfs", Presence::Optional,
                  [&](const Value& v) {
                      container.kind = ContainerSpec::Kind::Directory;
                      container.path = existing_path(v, base, fs::file_type::directory);
                  }},
                 {"tarball", Presence::Optional,
                  [&](const Value& v) {
                      container.kind = ContainerSpec::Kind::Tarball;
                      container.path = existing_path(v, base, fs::file_type::regular);
                  }},
                 {"oci", Presence::Optional,
                  [&](const Value& v) {
                      container.kind = ContainerSpec::Kind::Oci;
                      container.oci = read_oci(v);
                  }},
                 {"ostree", Presence::Optional,
                  [&](const Value& v) {
                      container.kind = ContainerSpec::Kind::Ostree;
                      container.ostree = read_ostree(v, base);
                  }},
                 {"kernel_source", Presence::Optional,
                  [&](const Value& v) {
                      container.kernel_source = v.text();
                      if (!container.kernel_source.starts_with('/')) {
                          v.fail(quote(container.kernel_source) + " must be an absolute path");
                      }
                      if (container.kernel_source.find("${KERNEL_RELEASE}") == std::string::npos) {
                          v.fail(quote(container.kernel_source) +
                                 " must contain ${KERNEL_RELEASE}");
                      }
                      if (has_control_char(container.kernel_source)) {
                          v.fail("must not contain control characters");
                      }
                  }},
             },
             {{"debian", "rootfs", "tarball", "oci", "ostree"}});
    return container;
}

// "<id>-<version_id or sysext_level>", with characters a target name cannot hold as '-'.
std::string default_target_name(const TargetOs& os) {
    auto name = os.id + "-" + (os.sysext_level.empty() ? os.version_id : os.sysext_level);
    for (auto& c : name) {
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-')) {
            c = '-';
        }
    }
    return name;
}

// One item of `targets:`; `name` receives the value of its `name:` (or the item), for messages
// about duplicates.
Target read_target_entry(const Value& value, const PathRoots& base, std::vector<Value>& kernels,
                         std::optional<Value>& name) {
    Target target;
    target.field = value.path();
    target.where = value.location();
    target.container.where = value.location();
    std::vector<FieldRule> rules{
        {"name", Presence::Optional,
         [&](const Value& v) {
             name = v;
             target.name = v.text();
             if (!is_target_name(target.name)) {
                 v.fail(quote(target.name) + " is not a valid target name (letters, digits and "
                                             "\"._-\", starting with a letter, digit or '_', at "
                                             "most 64 characters)");
             }
         }},
        {"kernels", Presence::Required,
         [&](const Value& v) { target.kernels = read_kernels(v, kernels); }},
        {"container", Presence::Optional,
         [&](const Value& v) { target.container = read_container(v, base); }},
    };
    auto identity = identity_rules(target.os);
    rules.insert(rules.begin() + 1, identity.begin(), identity.end());
    read_map(value, rules, {{"version_id", "sysext_level"}});
    if (!name) {
        name = value;
        target.name = default_target_name(target.os);
    }
    return target;
}

std::vector<Target> read_targets(const Value& value, const PathRoots& base,
                                 std::vector<std::vector<Value>>& kernel_values) {
    std::vector<Target> targets;
    for (const auto& item : non_empty_items(value)) {
        std::optional<Value> name;
        kernel_values.emplace_back();
        auto target = read_target_entry(item, base, kernel_values.back(), name);
        for (const auto& other : targets) {
            if (other.name == target.name) {
                name->fail(
                    "target name " + quote(target.name) + " is already used by " + other.field +
                    (name->path() == item.path() ? " (names default to <id>-<version_id>: set "
                                                   "\"name\" on one of them)"
                                                 : ""));
            }
        }
        targets.push_back(std::move(target));
    }
    return targets;
}

std::vector<std::string> read_build(const Value& value) {
    std::vector<std::string> commands;
    read_map(value, {{"commands", Presence::Required, [&](const Value& v) {
                          for (const auto& item : non_empty_items(v)) {
                              auto command = item.text();
                              if (command.find_first_not_of(" \t\n") == std::string::npos) {
                                  item.fail("must not be empty");
                              }
                              commands.push_back(command);
                          }
                      }}});
    return commands;
}

// `name` receives the name's value, for messages about duplicates.
ModuleSpec read_module(const Value& value, std::optional<Value>& name) {
    ModuleSpec module;
    module.where = value.location();
    read_map(value,
             {
                 {"name", Presence::Required,
                  [&](const Value& v) {
                      name = v;
                      module.name = v.text();
                      if (!is_module_name(module.name)) {
                          v.fail(quote(module.name) +
                                 " is not a valid module name (letters, digits, '_' and '-')");
                      }
                      if (module.name.size() > max_module_name) {
                          v.fail(quote(module.name) + " is too long (at most " +
                                 std::to_string(max_module_name) + " characters)");
                      }
                  }},
                 {"path", Presence::Optional,
                  [&](const Value& v) {
                      module.path = v.text();
                      const fs::path path(module.path);
                      if (module.path.empty()) {
                          v.fail("must not be empty");
                      }
                      if (path.is_absolute()) {
                          v.fail(quote(module.path) + " must be relative to SOURCE_DIR");
                      }
                      if (std::find(path.begin(), path.end(), "..") != path.end()) {
                          v.fail(quote(module.path) + " must not contain \"..\"");
                      }
                      if (path.extension() != ".ko" || path.stem().empty()) {
                          v.fail(quote(module.path) + " must end in \".ko\"");
                      }
                      if (has_control_char(module.path)) {
                          v.fail("must not contain control characters");
                      }
                  }},
                 {"options", Presence::Optional,
                  [&](const Value& v) {
                      module.options = v.text();
                      // modules.load keeps one module per line with TAB-separated fields.
                      if (has_control_char(module.options)) {
                          v.fail("must not contain control characters (tabs, line breaks)");
                      }
                  }},
                 {"load", Presence::Optional, [&](const Value& v) { module.load = v.boolean(); }},
             });
    return module;
}

std::vector<ModuleSpec> read_modules(const Value& value) {
    std::vector<ModuleSpec> modules;
    std::map<std::string, std::string> seen; // module_key -> path of the first
    for (const auto& item : non_empty_items(value)) {
        std::optional<Value> name;
        auto module = read_module(item, name);
        auto [first, inserted] = seen.emplace(module_key(module.name), name->path());
        if (!inserted) {
            name->fail("duplicate of " + first->second +
                       " ('-' and '_' are the same in module names)");
        }
        modules.push_back(std::move(module));
    }
    return modules;
}

std::string read_destination(const Value& value) {
    auto destination = value.text();
    if (has_control_char(destination)) {
        value.fail("must not contain control characters");
    }
    if (!destination.starts_with('/')) {
        value.fail(quote(destination) + " must be an absolute path");
    }
    if (!is_normal_absolute(destination)) {
        value.fail(quote(destination) +
                   " is not a normal path (no \".\" or \"..\" components, no \"//\", no "
                   "trailing \"/\")");
    }
    if (!is_under(destination, "/usr") && !is_under(destination, "/opt")) {
        value.fail(quote(destination) + " must be under /usr/ or /opt/");
    }
    if (destination == "/usr" || destination == "/opt") {
        value.fail(quote(destination) + " must be a file under /usr/ or /opt/");
    }
    for (std::string_view owned :
         {"/usr/lib/modules", "/usr/lib/extension-release.d", "/usr/lib/kmod-sysext"}) {
        if (is_under(destination, owned)) {
            value.fail(quote(destination) + " is under " + std::string(owned) +
                       "/, which kmod-sysext writes");
        }
    }
    // The modprobe hook of this and of any other extension.
    if (destination.starts_with("/usr/lib/modprobe.d/kmod-sysext-")) {
        value.fail(quote(destination) +
                   " is reserved for kmod-sysext (/usr/lib/modprobe.d/kmod-sysext-*)");
    }
    return destination;
}

unsigned read_mode(const Value& value) {
    auto text = value.text();
    std::string_view digits = text;
    if (digits.starts_with("0o")) {
        digits.remove_prefix(2); // YAML 1.2 octal
    }
    if (digits.empty() ||
        !std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '7'; })) {
        value.fail(quote(text) + " is not an octal mode");
    }
    unsigned mode = 0;
    for (char c : digits) {
        mode = mode * 8 + static_cast<unsigned>(c - '0');
        if (mode > 07777) {
            value.fail(quote(text) + " is out of range (at most 07777)");
        }
    }
    return mode;
}

// `destination` receives the destination's value, for messages about conflicts.
FileSpec read_file_spec(const Value& value, const PathRoots& base,
                        std::optional<Value>& destination) {
    FileSpec file;
    file.where = value.location();
    read_map(
        value,
        {
            {"source", Presence::Required,
             [&](const Value& v) { file.source = existing_path(v, base, fs::file_type::regular); }},
            {"destination", Presence::Required,
             [&](const Value& v) {
                 destination = v;
                 file.destination = read_destination(v);
             }},
            {"mode", Presence::Optional, [&](const Value& v) { file.mode = read_mode(v); }},
        });
    return file;
}

std::vector<FileSpec> read_files(const Value& value, const PathRoots& base) {
    std::vector<FileSpec> files;
    for (const auto& item : value.items()) {
        std::optional<Value> destination;
        auto file = read_file_spec(item, base, destination);
        for (size_t i = 0; i < files.size(); ++i) {
            const auto& other = files[i].destination;
            const auto other_path = "files[" + std::to_string(i) + "].destination";
            if (other == file.destination) {
                destination->fail("duplicate of " + other_path);
            }
            if (is_under(file.destination, other) || is_under(other, file.destination)) {
                destination->fail(quote(file.destination) + " and " + other_path + " " +
                                  quote(other) + " cannot both be files");
            }
        }
        files.push_back(std::move(file));
    }
    return files;
}

ImageSpec read_image(const Value& value) {
    ImageSpec image;
    std::optional<Value> level;
    read_map(value, {
                        {"compression", Presence::Optional,
                         [&](const Value& v) {
                             auto name = v.text();
                             if (name == "zstd") {
                                 image.compression = Compression::Zstd;
                             } else if (name == "xz") {
                                 image.compression = Compression::Xz;
                             } else if (name == "gzip") {
                                 image.compression = Compression::Gzip;
                             } else {
                                 v.fail(quote(name) + " is not supported (expected one of: "
                                                      "zstd, xz, gzip)");
                             }
                         }},
                        {"format", Presence::Optional,
                         [&](const Value& v) {
                             auto name = v.text();
                             if (name == "squashfs") {
                                 image.format = ImageFormat::Squashfs;
                             } else if (name == "ddi") {
                                 image.format = ImageFormat::Ddi;
                             } else {
                                 v.fail(quote(name) + " is not supported (expected one of: "
                                                      "squashfs, ddi)");
                             }
                         }},
                        {"level", Presence::Optional,
                         [&](const Value& v) {
                             v.integer();
                             level = v;
                         }},
                        {"module_compression", Presence::Optional,
                         [&](const Value& v) {
                             auto name = v.text();
                             image.module_compression = contract::module_compression_named(name);
                             if (!image.module_compression) {
                                 v.fail(quote(name) + " is not supported (expected one of: "
                                                      "none, xz, zstd)");
                             }
                         }},
                        {"timestamp", Presence::Optional,
                         [&](const Value& v) {
                             auto seconds = v.integer();
                             // squashfs keeps 32-bit unsigned time stamps.
                             if (seconds < 0 || seconds > max_timestamp) {
                                 v.fail(std::to_string(seconds) + " is out of range (0.." +
                                        std::to_string(max_timestamp) + ")");
                             }
                             image.timestamp = seconds;
                         }},
                    });
    if (level) {
        // Checked last: the range depends on the compression, wherever that key is.
        auto number = level->integer();
        auto [low, high] = image.compression == Compression::Zstd ? std::pair{1, 22}
                           : image.compression == Compression::Xz ? std::pair{0, 9}
                                                                  : std::pair{1, 9};
        if (number < low || number > high) {
            level->fail(std::to_string(number) + " is out of range for " +
                        to_string(image.compression) + " (" + std::to_string(low) + ".." +
                        std::to_string(high) + ")");
        }
        image.level = static_cast<int>(number);
    }
    return image;
}

// `build` and `modules` may only be left out when every source is built by its dkms.conf.
void check_build_needs(const Value& root, Manifest& m) {
    for (const auto& source : m.sources) {
        if (source.kind == SourceSpec::Kind::Path && m.source_dir.empty()) {
            m.source_dir = source.path;
        }
        if (source.dkms != DkmsMode::Off) {
            continue;
        }
        const auto why = " (" + source.field + " is not built by a dkms.conf)";
        if (m.build_commands.empty()) {
            root.fail("missing required field \"build\"" + why);
        }
        if (m.modules.empty()) {
            root.fail("missing required field \"modules\"" + why);
        }
    }
}

// A key or certificate file: resolved against the manifest's directory, not required to exist
// until a build reads it (validate works where the key is not).
fs::path key_path(const Value& value, const PathRoots& base) {
    return contained_path(value, base);
}

KeyPair read_key_pair(const Value& value, const PathRoots& base, std::string* hash) {
    KeyPair pair;
    pair.where = value.location();
    std::vector<FieldRule> rules{
        {"key", Presence::Required,
         [&](const Value& v) {
             // A key held in a PKCS#11 token is named by its URI, kept as written.
             pair.key = v.text().starts_with("pkcs11:") ? fs::path(v.text()) : key_path(v, base);
         }},
        {"cert", Presence::Required,
         [&](const Value& v) {
             if (v.text().starts_with("pkcs11:")) {
                 v.fail("must be a certificate file (PEM or DER); PKCS#11 URIs name keys only");
             }
             pair.cert = key_path(v, base);
         }},
    };
    if (hash != nullptr) {
        rules.push_back({"hash", Presence::Optional, [&](const Value& v) {
                             *hash = v.text();
                             if (std::find(module_hashes.begin(), module_hashes.end(), *hash) ==
                                 module_hashes.end()) {
                                 v.fail(quote(*hash) +
                                        " is not a module signature hash (expected one of: " +
                                        join(module_hashes) + ")");
                             }
                         }});
    }
    read_map(value, rules);
    return pair;
}

SigningSpec read_signing(const Value& value, const PathRoots& base) {
    SigningSpec signing;
    read_map(value, {
                        {"modules", Presence::Optional,
                         [&](const Value& v) {
                             signing.modules = read_key_pair(v, base, &signing.module_hash);
                         }},
                        {"image", Presence::Optional,
                         [&](const Value& v) { signing.image = read_key_pair(v, base, nullptr); }},
                    });
    if (!signing.modules && !signing.image) {
        value.fail("must name a key for modules, image or both");
    }
    return signing;
}

// `targets:` excludes the single-target keys; one of the two forms must be there.
void check_target_form(const Value& root, const std::optional<Value>& targets,
                       const std::map<std::string, Value>& single) {
    if (targets) {
        for (const auto& [key, value] : single) {
            value.fail("not with \"targets\" (line " + std::to_string(targets->location().line) +
                       "): each item of targets has its own id, kernels and "
                       "container; move \"" +
                       key + "\" into them");
        }
        return;
    }
    for (const char* key : {"target", "kernels"}) {
        if (single.count(key) == 0) {
            root.fail("missing required field \"" + std::string(key) +
                      "\" (or \"targets\" for several OS releases)");
        }
    }
}

// Every name in a `targets:` selector must be a target's.
void check_target_refs(const TargetRefs& refs, const std::vector<Target>& targets) {
    for (const auto& ref : refs) {
        auto name = ref.text();
        if (std::none_of(targets.begin(), targets.end(),
                         [&](const Target& t) { return t.name == name; })) {
            std::string known;
            for (const auto& t : targets) {
                known += (known.empty() ? "" : ", ") + t.name;
            }
            ref.fail("no target is called " + quote(name) + " (targets: " + known + ")");
        }
    }
}

// Two kernels whose images would get the same file name, for the releases known now (a
// `package:` kernel's release is known once resolved: the build and `plan --resolve` check it).
void check_image_names(const Manifest& m, const std::vector<std::vector<Value>>& kernel_values) {
    std::map<std::string, std::pair<std::string, std::string>> seen; // file -> (target, kernel)
    for (size_t t = 0; t < m.targets.size(); ++t) {
        auto narrowed = with_target(m, t);
        for (size_t k = 0; k < narrowed.kernels.size(); ++k) {
            const auto& kernel = narrowed.kernels[k];
            const auto* source = source_for(narrowed, kernel.value);
            if (kernel.kind != KernelSpec::Kind::Release ||
                (source != nullptr && source->kind == SourceSpec::Kind::Unsupported)) {
                continue; // known later, or no image
            }
            auto file =
                m.name + "_" + image_version(narrowed, kernel.value) + "_" + kernel.value + ".raw";
            auto [it, inserted] = seen.emplace(file, std::pair{narrowed.target_name, kernel.value});
            if (!inserted) {
                kernel_values[t][k].fail("target " + narrowed.target_name + " kernel " +
                                         kernel.value + " and target " + it->second.first +
                                         " kernel " + it->second.second +
                                         " would both make the image " + file);
            }
        }
    }
}

Userspace read_userspace(const Value& value) {
    auto text = value.text();
    if (text == "per-kernel") {
        return Userspace::PerKernel;
    }
    if (text == "shared") {
        return Userspace::Shared;
    }
    value.fail(quote(text) + " is not supported (expected one of: per-kernel, shared)");
}

bool selects_target(const std::vector<std::string>& targets, const std::string& name) {
    return targets.empty() || std::find(targets.begin(), targets.end(), name) != targets.end();
}

// With `userspace: shared`, two targets whose shared images could get the same file name (the
// same image version, and packages or files for both): refused, as the build cannot tell them
// apart. A target's image versions are those of the sources that may select it.
void check_shared_images(const Manifest& m, const Value& userspace) {
    std::map<std::string, std::string> seen; // shared image file -> target
    for (const auto& target : m.targets) {
        bool content = !m.files.empty() ||
                       std::any_of(m.packages.begin(), m.packages.end(), [&](const auto& p) {
                           return selects_target(p.targets, target.name);
                       });
        if (!content) {
            continue; // no shared image
        }
        std::set<std::string> versions;
        for (const auto& source : m.sources) {
            if (source.kind != SourceSpec::Kind::Unsupported &&
                selects_target(source.targets, target.name)) {
                versions.insert(source.image_version.empty() ? m.version : source.image_version);
            }
        }
        for (const auto& version : versions) {
            auto file = contract::ImageName{m.name, version, {}}.file_name();
            auto [it, inserted] = seen.emplace(file, target.name);
            if (!inserted) {
                userspace.fail("targets " + it->second + " and " + target.name +
                               " would both make the shared image " + file +
                               " (give them distinct image versions)");
            }
        }
    }
}

Manifest read_manifest(const Value& root, const fs::path& file, const LoadOptions& options) {
    Manifest m;
    m.file = fs::absolute(file).lexically_normal();
    const PathRoots base(m.file.parent_path(), options.allowed_paths);
    m.container.where = root.location();
    // A manifest of another format version is named as such, not as a list of unknown keys.
    if (root.node().IsMap()) {
        for (const auto& entry : root.node()) {
            if (entry.first.IsScalar() && entry.first.Scalar() == "apiVersion" &&
                entry.second.IsScalar()) {
                read_api_version(root.field(entry.first, entry.second));
            }
        }
    }
    Target single;
    single.field = "target";
    single.container.where = root.location();
    std::optional<Value> targets_value;
    std::map<std::string, Value> single_keys; // target, kernels, container as given
    std::vector<std::vector<Value>> kernel_values(1);
    TargetRefs refs;
    std::optional<Value> userspace_value;
    read_map(
        root,
        {
            {"apiVersion", Presence::Required, [](const Value& v) { read_api_version(v); }},
            {"name", Presence::Required, [&](const Value& v) { m.name = read_name(v); }},
            {"version", Presence::Required, [&](const Value& v) { m.version = read_version(v); }},
            {"target", Presence::Optional,
             [&](const Value& v) {
                 single_keys.emplace("target", v);
                 single.os = read_target(v);
             }},
            {"kernels", Presence::Optional,
             [&](const Value& v) {
                 single_keys.emplace("kernels", v);
                 single.kernels = read_kernels(v, kernel_values[0]);
             }},
            {"container", Presence::Optional,
             [&](const Value& v) {
                 single_keys.emplace("container", v);
                 single.container = read_container(v, base);
             }},
            {"targets", Presence::Optional,
             [&](const Value& v) {
                 targets_value = v;
                 if (!single_keys.empty()) {
                     check_target_form(root, v, single_keys);
                 }
                 kernel_values.clear();
                 m.targets = read_targets(v, base, kernel_values);
             }},
            {"source", Presence::Optional,
             [&](const Value& v) { m.sources = read_source_entry(v, base, refs); }},
            {"sources", Presence::Optional,
             [&](const Value& v) { m.sources = read_source_list(v, base, refs); }},
            {"patches", Presence::Optional,
             [&](const Value& v) { m.patches = read_patches(v, base, refs); }},
            {"build", Presence::Optional,
             [&](const Value& v) { m.build_commands = read_build(v); }},
            {"modules", Presence::Optional, [&](const Value& v) { m.modules = read_modules(v); }},
            {"packages", Presence::Optional,
             [&](const Value& v) { m.packages = read_packages(v, refs); }},
            {"relocate", Presence::Optional,
             [&](const Value& v) { m.relocate = read_relocate(v); }},
            {"files", Presence::Optional, [&](const Value& v) { m.files = read_files(v, base); }},
            {"userspace", Presence::Optional,
             [&](const Value& v) {
                 userspace_value = v;
                 m.userspace = read_userspace(v);
             }},
            {"image", Presence::Optional, [&](const Value& v) { m.image = read_image(v); }},
            {"signing", Presence::Optional,
             [&](const Value& v) { m.signing = read_signing(v, base); }},
        },
        {{"source", "sources"}});
    check_target_form(root, targets_value, single_keys);
    m.target_list = targets_value.has_value();
    if (!m.target_list) {
        single.name = default_target_name(single.os);
        single.where = single.container.where;
        m.targets.push_back(std::move(single));
    }
    check_target_refs(refs, m.targets);
    m = with_target(m, 0);
    check_build_needs(root, m);
    check_image_names(m, kernel_values);
    if (m.userspace == Userspace::Shared) {
        check_shared_images(m, *userspace_value);
    }
    return m;
}

} // namespace

Manifest with_target(const Manifest& manifest, size_t index) {
    Manifest narrowed = manifest;
    const auto& target = manifest.targets.at(index);
    narrowed.target_name = target.name;
    narrowed.target = target.os;
    narrowed.kernels = target.kernels;
    narrowed.container = target.container;
    return narrowed;
}

size_t find_target(const Manifest& manifest, const std::string& name, const std::string& option) {
    std::string known;
    for (size_t i = 0; i < manifest.targets.size(); ++i) {
        if (manifest.targets[i].name == name) {
            return i;
        }
        known += (known.empty() ? "" : ", ") + manifest.targets[i].name;
    }
    throw InputError(option + ": " + manifest.file.filename().string() + " has no target \"" +
                     name + "\" (targets: " + known + ")");
}

Manifest parse(const std::string& text, const fs::path& file, const LoadOptions& options) {
    SourceText source(text, file);
    // yaml-cpp would take these for something else and lose their position.
    source.check_characters(text);
    std::vector<YAML::Mark> documents;
    YAML::Node document;
    try {
        documents = yaml_document_roots(text);
        if (documents.size() == 1) {
            document = YAML::Load(text);
        }
    } catch (const YAML::Exception& e) {
        throw source.error(e.mark, "invalid YAML: " + e.msg);
    }
    if (documents.empty()) {
        throw source.error(YAML::Mark(), "expected a map, got an empty document");
    }
    if (documents.size() > 1) {
        throw source.error(documents[1],
                           "expected one YAML document, got " + std::to_string(documents.size()));
    }
    return read_manifest(Value(source, document), file, options);
}

} // namespace ksx::manifest

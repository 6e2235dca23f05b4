#include "plan/plan.hpp"

#include "manifest/image_version.hpp"
#include "util/error.hpp"
#include "util/sha256.hpp"

#include <algorithm>
#include <nlohmann/json.hpp>

namespace ksx::plan {

namespace {

std::string entry_id(const std::string& kernel) {
    std::string id = kernel;
    for (auto& c : id) {
        bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                     c == '.' || c == '_' || c == '-';
        if (!plain) {
            c = '-';
        }
    }
    return id;
}

nlohmann::ordered_json include_list(const std::vector<PlanEntry>& entries) {
    auto list = nlohmann::ordered_json::array();
    for (const auto& e : entries) {
        if (!e.skipped.empty()) {
            continue;
        }
        nlohmann::ordered_json release =
            e.release.empty() ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(e.release);
        nlohmann::ordered_json item{{"entry", e.id}};
        if (!e.target.empty()) {
            item["target"] = e.target;
        }
        item["kernel"] = e.kernel;
        item["release"] = release;
        item["cache_key"] = e.cache_key;
        list.push_back(item);
    }
    return list;
}

std::string entry_label(const PlanEntry& e) {
    return "kernel " + (e.release.empty() ? e.kernel : e.release) +
           (e.target.empty() ? "" : " (target " + e.target + ")");
}

} // namespace

std::string kernel_argument(const manifest::KernelSpec& spec) {
    if (spec.kind != manifest::KernelSpec::Kind::DebianPackage) {
        return spec.value;
    }
    return "package:" + spec.value + (spec.suite.empty() ? "" : "/" + spec.suite);
}

manifest::KernelSpec kernel_from_argument(const std::string& argument) {
    manifest::KernelSpec spec;
    spec.where.file = "--kernel";
    if (argument.starts_with("package:")) {
        spec.kind = manifest::KernelSpec::Kind::DebianPackage;
        spec.value = argument.substr(8);
        if (auto slash = spec.value.find('/'); slash != std::string::npos) {
            spec.suite = spec.value.substr(slash + 1);
            spec.value.resize(slash);
            if (spec.suite.empty() || spec.suite.find('/') != std::string::npos) {
                spec.value.clear(); // reported below
            }
        }
    } else {
        spec.value = argument;
    }
    if (spec.value.empty() || spec.value.find('/') != std::string::npos) {
        throw InputError("--kernel: \"" + argument +
                         "\" is not a kernel release, package:NAME or package:NAME/SUITE");
    }
    return spec;
}

std::string release_key(const std::string& target, const std::string& kernel) {
    return target + '\0' + kernel;
}

std::string entry_cache_key(const manifest::Manifest& manifest, const PlanInputs& inputs,
                            const std::string& target, const std::string& kernel,
                            const std::string& release) {
    // The NULs keep the parts from colliding with another split of the same bytes.
    std::string keyed = std::string("kmod-sysext ") + KSX_VERSION;
    for (const auto* part : {&inputs.manifest_text, &inputs.local_inputs, &kernel, &release}) {
        keyed += '\0';
        keyed += *part;
    }
    if (manifest.target_list) {
        keyed += '\0';
        keyed += target;
    }
    return sha256_hex(keyed);
}

std::vector<PlanEntry> plan(const manifest::Manifest& manifest, const PlanInputs& inputs) {
    std::vector<PlanEntry> entries;
    std::vector<std::pair<std::string, std::string>> files; // entry id -> image file name
    for (size_t t = 0; t < manifest.targets.size(); ++t) {
        const auto narrowed = manifest::with_target(manifest, t);
        std::vector<PlanEntry> target_entries;
        for (const auto& spec : narrowed.kernels) {
            PlanEntry entry;
            entry.kernel = kernel_argument(spec);
            entry.id = entry_id(entry.kernel);
            if (manifest.target_list) {
                entry.target = narrowed.target_name;
                entry.id = entry_id(entry.target) + "_" + entry.id;
            }
            if (spec.kind == manifest::KernelSpec::Kind::Release) {
                entry.release = spec.value;
            } else if (auto it =
                           inputs.releases.find(release_key(narrowed.target_name, entry.kernel));
                       it != inputs.releases.end()) {
                entry.release = it->second;
            }
            entry.cache_key =
                entry_cache_key(manifest, inputs, entry.target, entry.kernel, entry.release);
            if (!entry.release.empty()) {
                const auto* source = manifest::source_for(narrowed, entry.release);
                if (source != nullptr && source->kind == manifest::SourceSpec::Kind::Unsupported) {
                    entry.skipped = source->unsupported;
                }
            }
            auto same_id = std::find_if(target_entries.begin(), target_entries.end(),
                                        [&](const PlanEntry& e) { return e.id == entry.id; });
            if (same_id == target_entries.end()) {
                if (!entry.release.empty() && entry.skipped.empty()) {
                    files.emplace_back(entry.id,
                                       manifest.name + "_" +
                                           manifest::image_version(narrowed, entry.release) + "_" +
                                           entry.release + ".raw");
                }
                target_entries.push_back(std::move(entry));
            } else if (same_id->kernel != entry.kernel) {
                throw InputError("kernels \"" + same_id->kernel + "\" and \"" + entry.kernel +
                                 "\" both make the plan entry \"" + entry.id + "\"");
            }
        }
        entries.insert(entries.end(), target_entries.begin(), target_entries.end());
    }
    // Two entries whose images would get one file name: one would overwrite the other.
    std::map<std::string, std::string> by_file; // image file name -> entry id
    auto entry_of = [&](const std::string& id) -> const PlanEntry& {
        return *std::find_if(entries.begin(), entries.end(),
                             [&](const PlanEntry& e) { return e.id == id; });
    };
    for (const auto& [id, file] : files) {
        auto [it, inserted] = by_file.emplace(file, id);
        if (!inserted) {
            throw InputError(manifest.file.filename().string() + ": " +
                             entry_label(entry_of(it->second)) + " and " +
                             entry_label(entry_of(id)) + " would both make the image " + file);
        }
    }
    std::sort(entries.begin(), entries.end(),
              [](const PlanEntry& a, const PlanEntry& b) { return a.id < b.id; });
    return entries;
}

const PlanEntry& find_entry(const std::vector<PlanEntry>& entries, std::string_view id) {
    for (const auto& e : entries) {
        if (e.id == id) {
            return e;
        }
    }
    std::string known;
    for (const auto& e : entries) {
        known += known.empty() ? "" : ", ";
        known += e.id;
    }
    throw InputError("--only: no plan entry \"" + std::string(id) + "\" (entries: " + known + ")");
}

std::string plan_json(const manifest::Manifest& manifest, const std::vector<PlanEntry>& entries) {
    nlohmann::ordered_json out;
    out["name"] = manifest.name;
    out["version"] = manifest.version;
    out["include"] = include_list(entries);
    auto skipped = nlohmann::ordered_json::array();
    for (const auto& e : entries) {
        if (e.skipped.empty()) {
            continue;
        }
        nlohmann::ordered_json item{{"entry", e.id}};
        if (!e.target.empty()) {
            item["target"] = e.target;
        }
        item["kernel"] = e.kernel;
        item["release"] = e.release;
        item["reason"] = e.skipped;
        skipped.push_back(item);
    }
    if (!skipped.empty()) {
        out["skipped"] = skipped;
    }
    return out.dump(2) + "\n";
}

std::vector<std::string> skipped_lines(const std::vector<PlanEntry>& entries) {
    std::vector<std::string> lines;
    for (const auto& e : entries) {
        if (!e.skipped.empty()) {
            lines.push_back("plan: skipped " + e.id + ": " + entry_label(e) + ": " + e.skipped);
        }
    }
    return lines;
}

std::string plan_github(const std::vector<PlanEntry>& entries) {
    nlohmann::ordered_json matrix;
    matrix["include"] = include_list(entries);
    return "matrix=" + matrix.dump() + "\n";
}

std::string plan_gitlab(const std::vector<PlanEntry>& entries) {
    // JSON strings are valid YAML double-quoted scalars, so dump() does the quoting.
    std::string out = "# Generated by `kmod-sysext plan --format gitlab`: a child pipeline.\n"
                      "kmod-sysext-build:\n"
                      "  extends: .kmod-sysext-build\n"
                      "  parallel:\n"
                      "    matrix:\n";
    for (const auto& e : entries) {
        if (!e.skipped.empty()) {
            continue;
        }
        out += "      - KSX_ENTRY: " + nlohmann::json(e.id).dump() + "\n";
        if (!e.target.empty()) {
            out += "        KSX_TARGET: " + nlohmann::json(e.target).dump() + "\n";
        }
        out += "        KSX_KERNEL: " + nlohmann::json(e.kernel).dump() + "\n";
        out += "        KSX_RELEASE: " + nlohmann::json(e.release).dump() + "\n";
        out += "        KSX_CACHE_KEY: " + nlohmann::json(e.cache_key).dump() + "\n";
    }
    return out;
}

} // namespace ksx::plan

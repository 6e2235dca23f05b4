#include "container/dpkg_status.hpp"

#include "util/text.hpp"

#include <algorithm>

namespace ksx::container {

namespace {

constexpr std::string_view kHeadersPrefix = "linux-headers-";
constexpr int kMaxDepth = 8; // metapackage chains in Debian are one or two deep

// "libc6 (>= 2.34), gcc-12:amd64 | gcc" -> {"libc6", "gcc-12", "gcc"}
void add_relations(std::string_view field, std::vector<std::string>& out) {
    size_t start = 0;
    while (start <= field.size()) {
        size_t end = field.find_first_of(",|", start);
        if (end == std::string_view::npos) {
            end = field.size();
        }
        auto item = trim_blanks(field.substr(start, end - start));
        auto name = item.substr(0, item.find_first_of(" (:[<\t"));
        if (!name.empty()) {
            out.emplace_back(name);
        }
        start = end + 1;
    }
}

struct Stanza {
    std::string package, status, depends;
};

void finish(Stanza& stanza, std::vector<DpkgPackage>& out) {
    if (!stanza.package.empty()) {
        DpkgPackage package;
        package.name = stanza.package;
        package.status = stanza.status;
        add_relations(stanza.depends, package.depends);
        out.push_back(std::move(package));
    }
    stanza = {};
}

bool is_release_package(std::string_view name) {
    return name.starts_with(kHeadersPrefix) && name.size() > kHeadersPrefix.size() &&
           name.find("-common") == std::string_view::npos;
}

ReleaseLookup lookup(const std::vector<DpkgPackage>& packages, const std::string& name, int depth) {
    const DpkgPackage* found = nullptr;
    for (const auto& package : packages) {
        if (package.name == name && (!found || package.installed())) {
            found = &package;
        }
    }
    if (!found) {
        return {{}, "package " + name + " is not installed in the developer container"};
    }
    if (!found->installed()) {
        return {{},
                "package " + name + " is not installed in the developer container (dpkg status: " +
                    found->status + ")"};
    }
    std::vector<std::string> candidates;
    for (const auto& dependency : found->depends) {
        if (is_release_package(dependency) &&
            std::find(candidates.begin(), candidates.end(), dependency) == candidates.end()) {
            candidates.push_back(dependency);
        }
    }
    if (candidates.empty()) {
        if (is_release_package(name)) {
            return {name.substr(kHeadersPrefix.size()), {}};
        }
        return {{}, "package " + name + " does not depend on a linux-headers-<release> package"};
    }
    if (candidates.size() > 1) {
        std::string list;
        for (const auto& candidate : candidates) {
            list += (list.empty() ? "" : ", ") + candidate;
        }
        return {{}, "package " + name + " depends on several kernel header packages: " + list};
    }
    if (depth >= kMaxDepth) {
        return {{}, "package " + name + ": too many levels of metapackages"};
    }
    return lookup(packages, candidates.front(), depth + 1);
}

} // namespace

bool DpkgPackage::installed() const {
    return status.ends_with(" installed");
}

std::vector<DpkgPackage> parse_dpkg_status(std::string_view text) {
    std::vector<DpkgPackage> out;
    Stanza stanza;
    std::string* last = nullptr; // the field a continuation line extends
    size_t start = 0;
    while (start < text.size()) {
        size_t end = text.find('\n', start);
        if (end == std::string_view::npos) {
            end = text.size();
        }
        std::string_view line = text.substr(start, end - start);
        start = end + 1;
        if (trim_blanks(line).empty()) {
            finish(stanza, out);
            last = nullptr;
            continue;
        }
        if (line.front() == ' ' || line.front() == '\t') {
            if (last) {
                *last += ' ';
                *last += trim_blanks(line);
            }
            continue;
        }
        auto colon = line.find(':');
        if (colon == std::string_view::npos) {
            last = nullptr;
            continue;
        }
        auto field = line.substr(0, colon);
        auto value = trim_blanks(line.substr(colon + 1));
        last = nullptr;
        if (field == "Package") {
            stanza.package = value;
        } else if (field == "Status") {
            stanza.status = value;
        } else if (field == "Depends" || field == "Pre-Depends") {
            if (!stanza.depends.empty()) {
                stanza.depends += ", ";
            }
            stanza.depends += value;
            last = &stanza.depends;
        }
    }
    finish(stanza, out);
    return out;
}

ReleaseLookup headers_release(const std::vector<DpkgPackage>& packages, const std::string& name) {
    return lookup(packages, name, 0);
}

HeadersPackage release_headers_package(const DpkgPackage& offered) {
    std::vector<std::string> candidates;
    for (const auto& dependency : offered.depends) {
        if (is_release_package(dependency) &&
            std::find(candidates.begin(), candidates.end(), dependency) == candidates.end()) {
            candidates.push_back(dependency);
        }
    }
    if (candidates.size() == 1) {
        return {candidates.front(), {}};
    }
    if (candidates.empty()) {
        if (is_release_package(offered.name)) {
            return {offered.name, {}};
        }
        return {{},
                "package " + offered.name +
                    " does not depend on a linux-headers-<release> package"};
    }
    std::string list;
    for (const auto& candidate : candidates) {
        list += (list.empty() ? "" : ", ") + candidate;
    }
    return {{}, "package " + offered.name + " depends on several kernel header packages: " + list};
}

} // namespace ksx::container

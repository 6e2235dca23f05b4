#include "manifest/kernel_selector.hpp"

#include <algorithm>
#include <charconv>
#include <fnmatch.h>
#include <string>
#include <vector>

namespace ksx::manifest {

namespace {

std::vector<unsigned long> numbers(std::string_view version) {
    std::vector<unsigned long> out;
    while (!version.empty()) {
        unsigned long value = 0;
        auto [end, ec] = std::from_chars(version.data(), version.data() + version.size(), value);
        if (ec != std::errc()) {
            break;
        }
        out.push_back(value);
        version.remove_prefix(static_cast<size_t>(end - version.data()));
        if (version.empty() || version.front() != '.') {
            break;
        }
        version.remove_prefix(1);
    }
    return out;
}

int compare(const std::vector<unsigned long>& a, const std::vector<unsigned long>& b,
            size_t count) {
    for (size_t i = 0; i < count; ++i) {
        unsigned long x = i < a.size() ? a[i] : 0;
        unsigned long y = i < b.size() ? b[i] : 0;
        if (x != y) {
            return x < y ? -1 : 1;
        }
    }
    return 0;
}

} // namespace

int compare_kernel_versions(std::string_view a, std::string_view b) {
    auto x = numbers(a);
    auto y = numbers(b);
    return compare(x, y, std::max(x.size(), y.size()));
}

std::string_view release_version(std::string_view release) {
    size_t end = 0;
    while (end < release.size() && ((release[end] >= '0' && release[end] <= '9') ||
                                    (release[end] == '.' && end + 1 < release.size() &&
                                     release[end + 1] >= '0' && release[end + 1] <= '9'))) {
        ++end;
    }
    return release.substr(0, end);
}

bool selects(const KernelSelector& selector, std::string_view release) {
    const std::string text(release);
    if (!selector.match.empty() && ::fnmatch(selector.match.c_str(), text.c_str(), 0) != 0) {
        return false;
    }
    auto version = numbers(release_version(release));
    if (!selector.min.empty()) {
        auto min = numbers(selector.min);
        if (compare(version, min, std::max(version.size(), min.size())) < 0) {
            return false;
        }
    }
    if (!selector.max.empty()) {
        auto max = numbers(selector.max);
        if (compare(version, max, max.size()) > 0) {
            return false;
        }
    }
    return true;
}

bool selects(const KernelSelector& selector, const std::vector<std::string>& targets,
             std::string_view target, std::string_view release) {
    if (!targets.empty() && std::find(targets.begin(), targets.end(), target) == targets.end()) {
        return false;
    }
    return selects(selector, release);
}

std::string describe(const KernelSelector& selector, const std::vector<std::string>& targets) {
    auto out = describe(selector);
    if (!targets.empty()) {
        out += ", targets ";
        for (size_t i = 0; i < targets.size(); ++i) {
            out += (i == 0 ? "" : ", ") + targets[i];
        }
    }
    return out;
}

std::string describe(const KernelSelector& selector) {
    std::string out;
    auto add = [&out](const std::string& text) { out += (out.empty() ? "" : ", ") + text; };
    if (!selector.match.empty()) {
        add("match \"" + selector.match + "\"");
    }
    if (!selector.min.empty()) {
        add("min " + selector.min);
    }
    if (!selector.max.empty()) {
        add("max " + selector.max);
    }
    return out.empty() ? "any kernel" : out;
}

} // namespace ksx::manifest

#include "build/module_collect.hpp"

#include "util/error.hpp"
#include "util/process.hpp"

#include <algorithm>
#include <sstream>

namespace ksx::build {

namespace fs = std::filesystem;

namespace {

std::string canonical(std::string name) {
    std::replace(name.begin(), name.end(), '-', '_');
    return name;
}

std::vector<fs::path> search(const fs::path& dir, const std::string& file_name) {
    std::vector<fs::path> found;
    if (!fs::is_directory(dir)) {
        return found;
    }
    for (const auto& entry : fs::recursive_directory_iterator(dir)) {
        if (entry.is_regular_file() && canonical(entry.path().filename().string()) == file_name) {
            found.push_back(entry.path());
        }
    }
    std::sort(found.begin(), found.end());
    return found;
}

std::string trim(std::string text) {
    while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) {
        text.pop_back();
    }
    return text;
}

// `file`, when it really lies in `source_dir` or `install_dir`: a symbolic link there that
// leads out (left by a source tree or a build command, say to a host file) is refused, so no
// host file is ever copied into an image as a module.
fs::path inside_build(const manifest::ModuleSpec& spec, const fs::path& file,
                      const fs::path& source_dir, const fs::path& install_dir) {
    std::error_code ec;
    const auto real = fs::canonical(file, ec);
    for (const auto& dir : {source_dir, install_dir}) {
        const auto root = fs::weakly_canonical(dir, ec);
        const auto rel = real.lexically_relative(root);
        if (!real.empty() && !rel.empty() && *rel.begin() != "..") {
            return file;
        }
    }
    throw Error("module " + spec.name + ": " + file.string() +
                " is a symbolic link that leads out of the build's directories (to " +
                real.string() + ")");
}

} // namespace

fs::path find_module_file(const manifest::ModuleSpec& spec, const fs::path& source_dir,
                          const fs::path& install_dir) {
    if (!spec.path.empty()) {
        auto file = source_dir / spec.path;
        if (!fs::is_regular_file(file)) {
            throw Error("module " + spec.name + ": the build did not produce " + spec.path);
        }
        return inside_build(spec, file, source_dir, install_dir);
    }
    auto wanted = canonical(spec.name) + ".ko";
    for (const auto& dir : {install_dir, source_dir}) {
        auto found = search(dir, wanted);
        if (found.size() == 1) {
            return inside_build(spec, found.front(), source_dir, install_dir);
        }
        if (found.size() > 1) {
            std::string list;
            for (const auto& f : found) {
                list += "\n  " + f.lexically_relative(dir).string();
            }
            throw Error("module " + spec.name + ": several files match " + wanted +
                        "; set modules[].path to one of:" + list);
        }
    }
    throw Error("module " + spec.name + ": the build did not produce " + spec.name +
                ".ko (searched INSTALL_DIR and SOURCE_DIR)");
}

ModuleInfo read_module_info(const fs::path& ko) {
    ModuleInfo info;
    auto vermagic = run_capture({"modinfo", "-F", "vermagic", ko.string()});
    if (vermagic.exit_status != 0) {
        throw Error("modinfo failed on " + ko.string());
    }
    info.vermagic = trim(vermagic.output);
    auto depends = run_capture({"modinfo", "-F", "depends", ko.string()});
    if (depends.exit_status != 0) {
        throw Error("modinfo failed on " + ko.string());
    }
    std::stringstream list(trim(depends.output));
    for (std::string dep; std::getline(list, dep, ',');) {
        if (!dep.empty()) {
            info.depends.push_back(dep);
        }
    }
    return info;
}

std::string vermagic_release(const std::string& vermagic) {
    return vermagic.substr(0, vermagic.find(' '));
}

} // namespace ksx::build

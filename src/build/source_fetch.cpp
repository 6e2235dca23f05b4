#include "build/source_fetch.hpp"

#include "build/apt_source.hpp"
#include "build/makeself.hpp"
#include "fetch/fetch.hpp"
#include "util/error.hpp"

#include <algorithm>
#include <fnmatch.h>
#include <vector>

namespace ksx::build {

namespace fs = std::filesystem;

namespace {

void note(const FetchContext& context, const std::string& text) {
    context.progress.step(text);
}

std::string conf_name(const manifest::SourceSpec& source) {
    return source.dkms_conf.empty() ? "dkms.conf" : source.dkms_conf;
}

// "usr/src/foo-1.0/" for a directory under `root`; "" for `root` itself.
std::string relative_dir(const fs::path& dir, const fs::path& root) {
    auto relative = dir.lexically_relative(root).generic_string();
    return relative.empty() || relative == "." ? "" : relative + "/";
}

bool has_file(const fs::path& file) {
    std::error_code ec;
    return fs::is_regular_file(file, ec);
}

// "hello.yaml:12:3: " for a manifest location, "" when there is none.
std::string location_prefix(const manifest::Location& where) {
    if (where.file.empty()) {
        return "";
    }
    return where.file.string() + ":" + std::to_string(where.line) + ":" +
           std::to_string(where.column) + ": ";
}

// The directories usr/src/*/ of `root` holding `conf`, sorted: where a DKMS package ships
// its tree (DKMS itself reads /usr/src/<module>-<module-version>/dkms.conf).
std::vector<fs::path> dkms_trees(const fs::path& root, const std::string& conf) {
    std::vector<fs::path> trees;
    std::error_code ec;
    const auto usr_src = root / "usr" / "src";
    if (!fs::is_directory(fs::symlink_status(usr_src, ec))) {
        return trees;
    }
    for (const auto& entry : fs::directory_iterator(usr_src)) {
        if (fs::is_directory(fs::symlink_status(entry.path(), ec)) &&
            has_file(entry.path() / conf)) {
            trees.push_back(entry.path());
        }
    }
    std::sort(trees.begin(), trees.end());
    return trees;
}

} // namespace

SourceTree locate_tree(const manifest::SourceSpec& source, const fs::path& unpacked,
                       const std::string& origin) {
    const auto conf = conf_name(source);
    SourceTree tree{lone_directory(unpacked), ""};
    tree.dkms_conf_looked_at = relative_dir(tree.dir, unpacked) + conf;
    if (source.dkms != manifest::DkmsMode::Off && !has_file(tree.dir / conf)) {
        const auto found = dkms_trees(unpacked, conf);
        if (found.size() == 1) {
            tree.dir = found.front();
            tree.dkms_conf_looked_at = relative_dir(tree.dir, unpacked) + conf;
        } else if (found.size() > 1) {
            std::string names;
            for (const auto& dir : found) {
                names += (names.empty() ? "" : ", ") + relative_dir(dir, unpacked);
            }
            const auto first = relative_dir(found.front(), unpacked);
            throw InputError(location_prefix(source.where) + source.field + ": " + origin +
                             " holds " + std::to_string(found.size()) + " DKMS trees (" + names +
                             "): set " + source.field + ".subdir to the one to build (e.g. " +
                             "subdir: " + first.substr(0, first.size() - 1) + ")");
        } else {
            tree.dkms_conf_looked_at += " or usr/src/*/" + conf;
        }
    }
    tree.dkms_conf_looked_at += " in " + origin;
    return tree;
}

fs::path lone_directory(fs::path dir) {
    for (;;) {
        std::error_code ec;
        fs::directory_iterator it(dir, ec), end;
        if (ec || it == end) {
            return dir;
        }
        const auto only = it->path();
        if (++it != end || !fs::is_directory(fs::symlink_status(only, ec))) {
            return dir;
        }
        dir = only;
    }
}

fs::path match_subdir(const fs::path& root, const std::string& pattern, const std::string& field) {
    std::vector<fs::path> current{root};
    for (const auto& part : fs::path(pattern)) {
        if (part.empty() || part == ".") {
            continue;
        }
        std::vector<fs::path> next;
        for (const auto& dir : current) {
            std::error_code ec;
            if (!fs::is_directory(fs::symlink_status(dir, ec))) {
                continue;
            }
            for (const auto& entry : fs::directory_iterator(dir)) {
                if (::fnmatch(part.c_str(), entry.path().filename().c_str(), FNM_PERIOD) == 0) {
                    next.push_back(entry.path());
                }
            }
        }
        current = std::move(next);
    }
    std::sort(current.begin(), current.end());
    if (current.empty()) {
        throw InputError(field + ": \"" + pattern + "\" matches nothing in the unpacked source");
    }
    if (current.size() > 1) {
        std::string names;
        for (const auto& path : current) {
            names += (names.empty() ? "" : ", ") + path.lexically_relative(root).string();
        }
        throw InputError(field + ": \"" + pattern + "\" matches more than one entry (" + names +
                         ")");
    }
    return current.front();
}

SourceTree fetch_source(const manifest::SourceSpec& source, const FetchContext& context,
                        const fs::path& scratch) {
    if (source.kind == manifest::SourceSpec::Kind::Path) {
        return {source.path, (source.path / conf_name(source)).string()};
    }
    fs::path archive;
    if (source.kind == manifest::SourceSpec::Kind::Apt) {
        note(context, "source " + source.field + ": apt-get download " + source.package);
        archive =
            apt_download(*context.rootfs,
                         {source.package, source.version, source.release, source.field + ".apt"},
                         context.cache_dir, context.log);
    } else {
        note(context, "source " + source.field + ": downloading " + source.url);
        fetch::DownloadOptions options{.cache_dir = context.cache_dir,
                                       .progress = context.progress};
        try {
            archive = fetch::download(source.url, source.sha256, options);
        } catch (const std::exception& e) {
            // A wrong sha256, a truncated download or an HTTP error, named by the field.
            throw Error(source.field + ".url: " + e.what());
        }
        if (!fetch::is_archive(archive)) {
            if (!is_makeself_installer(archive)) {
                throw InputError(source.field + ".url: " + source.url +
                                 " is neither an archive kmod-sysext can unpack (tar, zip, .deb, "
                                 ".rpm) nor a makeself .run installer");
            }
            fs::remove_all(scratch);
            const auto extracted = scratch / "installer";
            note(context, "source " + source.field + ": extracting " + source.url);
            extract_makeself(*context.rootfs, archive, extracted, context.log, source.field);
            const auto origin = "the extracted " + fs::path(source.url).filename().string();
            if (source.subdir.empty()) {
                return locate_tree(source, extracted, origin);
            }
            auto dir = match_subdir(extracted, source.subdir, source.field + ".subdir");
            return {dir, relative_dir(dir, extracted) + conf_name(source) + " in " + origin};
        }
    }
    fs::remove_all(scratch);
    fs::create_directories(scratch);
    const auto unpacked = scratch / "package";
    const auto origin = "the unpacked " + archive.filename().string();
    note(context, "source " + source.field + ": unpacking " + archive.filename().string());
    fetch::unpack(archive, unpacked);
    if (source.subdir.empty()) {
        return locate_tree(source, unpacked, origin);
    }
    auto inner = match_subdir(unpacked, source.subdir, source.field + ".subdir");
    std::error_code ec;
    if (fs::is_directory(fs::symlink_status(inner, ec))) {
        return {inner, relative_dir(inner, unpacked) + conf_name(source) + " in " + origin};
    }
    if (!fs::is_regular_file(fs::symlink_status(inner, ec)) || !fetch::is_archive(inner)) {
        throw InputError(source.field + ".subdir: " + inner.lexically_relative(unpacked).string() +
                         " is neither a directory nor an archive");
    }
    const auto tree = scratch / "tree";
    note(context, "source " + source.field + ": unpacking " + inner.filename().string());
    fetch::unpack(inner, tree);
    return locate_tree(source, tree,
                       "the unpacked " + inner.lexically_relative(unpacked).generic_string() +
                           " of " + archive.filename().string());
}

} // namespace ksx::build

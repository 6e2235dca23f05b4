#include "build/source_fetch.hpp"

#include "build/apt_source.hpp"
#include "build/makeself.hpp"
#include "fetch/fetch.hpp"
#include "util/error.hpp"

#include <algorithm>
#include <fnmatch.h>

namespace ksx::build {

namespace fs = std::filesystem;

namespace {

void note(const FetchContext& context, const std::string& text) {
    if (context.progress) {
        context.progress->step(text);
    }
}

} // namespace

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

fs::path fetch_source(const manifest::SourceSpec& source, const FetchContext& context,
                      const fs::path& scratch) {
    if (source.kind == manifest::SourceSpec::Kind::Path) {
        return source.path;
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
        fetch::DownloadOptions options;
        options.cache_dir = context.cache_dir;
        options.progress = context.progress;
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
            if (source.subdir.empty()) {
                return lone_directory(extracted);
            }
            return match_subdir(extracted, source.subdir, source.field + ".subdir");
        }
    }
    fs::remove_all(scratch);
    fs::create_directories(scratch);
    const auto unpacked = scratch / "package";
    note(context, "source " + source.field + ": unpacking " + archive.filename().string());
    fetch::unpack(archive, unpacked);
    if (source.subdir.empty()) {
        return lone_directory(unpacked);
    }
    auto inner = match_subdir(unpacked, source.subdir, source.field + ".subdir");
    std::error_code ec;
    if (fs::is_directory(fs::symlink_status(inner, ec))) {
        return inner;
    }
    if (!fs::is_regular_file(fs::symlink_status(inner, ec)) || !fetch::is_archive(inner)) {
        throw InputError(source.field + ".subdir: " + inner.lexically_relative(unpacked).string() +
                         " is neither a directory nor an archive");
    }
    const auto tree = scratch / "tree";
    note(context, "source " + source.field + ": unpacking " + inner.filename().string());
    fetch::unpack(inner, tree);
    return lone_directory(tree);
}

} // namespace ksx::build

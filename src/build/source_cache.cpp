#include "build/source_cache.hpp"

#include "build/apt_source.hpp"
#include "fetch/fetch.hpp"
#include "util/error.hpp"

#include <fstream>

namespace ksx::build {

namespace fs = std::filesystem;

namespace {

void append_log(const fs::path& log, const std::string& text) {
    std::ofstream out(log, std::ios::app);
    out << text << '\n';
    if (!out) {
        throw Error("failed to write " + log.string());
    }
}

// At most this many paths of a package report go to the progress output; the log has all.
constexpr size_t kReportLines = 3;

std::string summary(const std::vector<std::string>& items) {
    std::string out;
    for (size_t i = 0; i < items.size() && i < kReportLines; ++i) {
        out += (i ? ", " : "") + items[i];
    }
    if (items.size() > kReportLines) {
        out += ", ... (" + std::to_string(items.size()) + " in all)";
    }
    return out;
}

} // namespace

SourceCache::SourceCache(const container::Rootfs& rootfs, fs::path cache_dir, fs::path scratch_root,
                         Progress& progress)
    : rootfs_(rootfs), cache_dir_(std::move(cache_dir)), scratch_root_(std::move(scratch_root)),
      progress_(progress) {}

SourceTree SourceCache::source(const manifest::SourceSpec& source, const fs::path& log) {
    std::lock_guard lock(mutex_);
    if (auto failed = failures_.find(&source); failed != failures_.end()) {
        std::rethrow_exception(failed->second);
    }
    if (auto found = sources_.find(&source); found != sources_.end()) {
        append_log(log, "# " + source.field + ": fetched before, at " + found->second.dir.string());
        return found->second;
    }
    try {
        FetchContext context{&rootfs_, cache_dir_, log, progress_};
        auto tree = fetch_source(source, context,
                                 scratch_root_ / ("source-" + std::to_string(sources_.size())));
        append_log(log, "# " + source.field + ": tree at " + tree.dir.string());
        return sources_[&source] = tree;
    } catch (...) {
        failures_[&source] = std::current_exception();
        throw;
    }
}

const StagedPackage& SourceCache::package(const manifest::PackageSpec& package,
                                          const std::vector<manifest::RelocateRule>& rules,
                                          const fs::path& log) {
    std::lock_guard lock(mutex_);
    if (auto failed = failures_.find(&package); failed != failures_.end()) {
        std::rethrow_exception(failed->second);
    }
    if (auto found = packages_.find(&package); found != packages_.end()) {
        return found->second;
    }
    try {
        fs::path archive;
        if (package.kind == manifest::PackageSpec::Kind::Apt) {
            progress_.step("package " + package.field + ": apt-get download " + package.package);
            archive = apt_download(
                rootfs_,
                {package.package, package.version, package.release, package.field + ".apt"},
                cache_dir_, log);
        } else {
            fetch::DownloadOptions options{.cache_dir = cache_dir_, .progress = progress_};
            try {
                archive = fetch::download(package.url, package.sha256, options);
            } catch (const std::exception& e) {
                throw Error(package.field + ".url: " + e.what());
            }
        }
        auto staged = stage_package(
            archive, rules, scratch_root_ / ("package-" + std::to_string(packages_.size())));
        append_log(log, "# " + package.field + ": " + archive.filename().string());
        for (const auto& line : staged.relocated) {
            append_log(log, "#   relocated " + line);
        }
        for (const auto& line : staged.left_out) {
            append_log(log, "#   left out (outside /usr and /opt, no relocate rule) " + line);
        }
        if (!staged.left_out.empty()) {
            progress_.line(package.field + " " + archive.filename().string() + ": left out " +
                           std::to_string(staged.left_out.size()) +
                           " file(s) outside /usr and /opt with no relocate rule: " +
                           summary(staged.left_out));
        }
        if (!staged.relocated.empty()) {
            progress_.line(package.field + " " + archive.filename().string() + ": relocated " +
                           std::to_string(staged.relocated.size()) +
                           " file(s): " + summary(staged.relocated));
        }
        return packages_[&package] = std::move(staged);
    } catch (...) {
        failures_[&package] = std::current_exception();
        throw;
    }
}

} // namespace ksx::build

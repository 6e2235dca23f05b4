#include "publish/publish.hpp"

#include "publish/gpg_sign.hpp"
#include "publish/release_files.hpp"
#include "publish/release_merge.hpp"
#include "sign/keys.hpp"
#include "util/atomic_file.hpp"
#include "util/error.hpp"
#include "util/file_io.hpp"
#include "util/output_dir.hpp"
#include "util/sha256.hpp"
#include "util/temp_dir.hpp"
#include "util/unique_fd.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <fcntl.h>
#include <map>
#include <sys/file.h>
#include <unistd.h>

namespace ksx::publish {

namespace fs = std::filesystem;

namespace {

constexpr const char* activator_name = "kmod-sysext-activate";

void fsync_path(const fs::path& path, int flags) {
    UniqueFd fd(::open(path.c_str(), flags | O_CLOEXEC));
    if (!fd || ::fsync(fd.get()) != 0) {
        throw_errno("cannot sync " + path.string());
    }
}

// A hard link when source and target share a file system, else a copy.
void place(const fs::path& source, const fs::path& target) {
    if (::link(source.c_str(), target.c_str()) == 0) {
        return;
    }
    if (errno != EXDEV && errno != EPERM) {
        throw_errno("cannot link " + source.string() + " to " + target.string());
    }
    fs::copy_file(source, target);
    fs::permissions(target, fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read |
                                fs::perms::others_read);
    fsync_path(target, O_RDONLY);
}

// The small files that, with SHA256SUMS covering everything else, say what a release holds.
std::map<std::string, std::string> release_texts(const fs::path& dir) {
    std::map<std::string, std::string> texts;
    if (!fs::is_directory(dir)) {
        return texts;
    }
    for (const auto& entry : fs::recursive_directory_iterator(dir)) {
        auto rel = fs::relative(entry.path(), dir).string();
        bool text = rel == "SHA256SUMS" || rel == "index.json" || rel.starts_with("sysupdate.d/");
        if (entry.is_regular_file() && text) {
            texts[rel] = read_file(entry.path());
        } else if (rel != "SHA256SUMS.gpg") {
            texts[rel] = ""; // present
        }
    }
    return texts;
}

// Held while a release is published: concurrent publishers into one release take turns, so
// none swaps in a release built from a state another has replaced.
UniqueFd lock_release(const fs::path& to) {
    auto path = to.parent_path() / ("." + to.filename().string() + ".lock");
    UniqueFd fd(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644));
    if (!fd || ::flock(fd.get(), LOCK_EX) != 0) {
        throw_errno("cannot lock " + path.string());
    }
    return fd;
}

// Staging directories of publishers that were killed; safe to remove under the lock.
void remove_stale_staging(const fs::path& to) {
    auto prefix = "." + to.filename().string() + ".new-";
    for (const auto& entry : fs::directory_iterator(to.parent_path())) {
        if (entry.path().filename().string().starts_with(prefix)) {
            fs::remove_all(entry.path());
        }
    }
}

void swap_in(const fs::path& staged, const fs::path& to) {
    fsync_path(staged, O_RDONLY | O_DIRECTORY);
    bool exists = fs::exists(fs::symlink_status(to));
    unsigned flags = exists ? RENAME_EXCHANGE : RENAME_NOREPLACE;
    if (::renameat2(AT_FDCWD, staged.c_str(), AT_FDCWD, to.c_str(), flags) != 0) {
        throw_errno("cannot move " + staged.string() + " to " + to.string());
    }
    fsync_path(to.parent_path(), O_RDONLY | O_DIRECTORY);
}

} // namespace

PublishResult publish_release(const PublishOptions& options) {
    const fs::path to = fs::absolute(options.to).lexically_normal();
    if (to.filename().empty() || to == to.root_path()) {
        throw InputError("--to: \"" + options.to.string() + "\" cannot be a release directory");
    }
    std::vector<sign::Certificate> certs;
    for (const auto& c : options.certs) {
        certs.push_back(sign::load_certificate(c));
    }

    fs::create_directories(to.parent_path());
    auto lock = lock_release(to);
    remove_stale_staging(to);

    std::map<std::string, ReleaseImage> images;
    std::optional<ReleaseFile> activator;
    if (fs::is_directory(to)) {
        for (const auto& path : shard_images(to)) {
            merge_release_image(images, read_release_image(path, certs));
        }
        if (fs::is_regular_file(to / activator_name)) {
            auto path = to / activator_name;
            activator =
                ReleaseFile{activator_name, path, sha256_file_hex(path), fs::file_size(path)};
        }
    } else if (fs::exists(to)) {
        throw InputError("--to: " + to.string() + " exists and is not a directory");
    }
    // Each shard's sets read whole: interrupted commits completed, no build commits meanwhile.
    std::vector<SettledDir> settled_shards;
    for (const auto& dir : options.from) {
        settled_shards.emplace_back(fs::absolute(dir));
        for (const auto& path : shard_images(dir)) {
            merge_release_image(images, read_release_image(path, certs));
        }
    }
    if (options.activator) {
        const auto& path = *options.activator;
        if (!fs::is_regular_file(path)) {
            throw InputError("--activator: " + path.string() + " is not a file");
        }
        activator = ReleaseFile{activator_name, path, sha256_file_hex(path), fs::file_size(path)};
    }

    PublishResult result;
    TempDir staged("." + to.filename().string() + ".new-", to.parent_path());
    std::vector<ReleaseFile> listed;
    for (auto& [file, image] : images) {
        place(image.image.source, staged.path() / file);
        listed.push_back(image.image);
        for (const auto& s : image.sidecars) {
            place(s.source, staged.path() / s.file);
            listed.push_back(s);
        }
        result.images.push_back(image);
    }
    if (activator) {
        place(activator->source, staged.path() / activator_name);
        fs::permissions(staged.path() / activator_name,
                        fs::perms::owner_exec | fs::perms::group_exec | fs::perms::others_exec,
                        fs::perm_options::add);
        listed.push_back(*activator);
    }
    auto index = release_index(result.images, activator);
    write_file_atomic(staged.path() / "index.json", index);
    listed.push_back({"index.json", staged.path() / "index.json", sha256_hex(index), index.size()});
    if (!options.base_url.empty()) {
        for (const auto& [rel, text] :
             sysupdate_transfers(result.images, options.base_url, !options.gpg_key.empty())) {
            fs::create_directories((staged.path() / rel).parent_path());
            write_file_atomic(staged.path() / rel, text);
        }
    }
    write_file_atomic(staged.path() / "SHA256SUMS", sha256sums(listed));

    bool had_signature = fs::exists(to / "SHA256SUMS.gpg");
    bool same = release_texts(staged.path()) == release_texts(to) &&
                (options.gpg_key.empty() == !had_signature);
    if (same) {
        return result; // staged is removed with its TempDir
    }
    if (!options.gpg_key.empty()) {
        gpg_detach_sign(staged.path() / "SHA256SUMS", staged.path() / "SHA256SUMS.gpg",
                        options.gpg_key, options.gpg_homedir);
    }
    fs::permissions(staged.path(), static_cast<fs::perms>(0755)); // TempDir makes it 0700
    swap_in(staged.path(), to);
    // After an exchange the staged path holds the previous release, removed with the TempDir.
    result.changed = true;
    return result;
}

} // namespace ksx::publish

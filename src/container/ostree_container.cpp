#include "container/ostree_container.hpp"

#include "util/atomic_dir.hpp"
#include "util/entry_lock.hpp"
#include "util/error.hpp"
#include "util/file_io.hpp"
#include "util/glib_handles.hpp"
#include "util/sha256.hpp"

#include <fcntl.h>
#include <optional>
#include <ostree.h>

namespace fs = std::filesystem;

namespace ksx::container {

namespace {

using Repo = GObjectPtr<OstreeRepo>;
using File = GObjectPtr<GFile>;

// The source as ostree pulls it: the URL, or file:// for a local repository.
std::string source_url(const manifest::OstreeContainer& ostree) {
    return ostree.url.empty() ? "file://" + ostree.repo.string() : ostree.url;
}

std::string shown_source(const manifest::OstreeContainer& ostree) {
    return ostree.url.empty() ? ostree.repo.string() : ostree.url;
}

// One remote per source and key set: keys imported into a remote stay trusted, so a changed
// key list gets a remote of its own.
std::string remote_name(const manifest::OstreeContainer& ostree) {
    std::string identity = source_url(ostree);
    for (const auto& key : ostree.gpg_keys) {
        identity += "\n" + sha256_file_hex(key);
    }
    return "ksx-" + sha256_hex(identity).substr(0, 16);
}

// A GVariant dictionary ("a{sv}") built from name/value pairs; values are floating.
GVariantPtr dictionary(std::initializer_list<std::pair<const char*, GVariant*>> entries) {
    GVariantBuilder builder;
    g_variant_builder_init(&builder, G_VARIANT_TYPE("a{sv}"));
    for (const auto& [name, value] : entries) {
        g_variant_builder_add(&builder, "{s@v}", name, g_variant_new_variant(value));
    }
    return GVariantPtr(g_variant_ref_sink(g_variant_builder_end(&builder)));
}

Repo open_cache_repo(const fs::path& path) {
    fs::create_directories(path);
    File file(g_file_new_for_path(path.c_str()));
    Repo repo(ostree_repo_new(file.get()));
    GlibFailure failure;
    // Creates the repository, or opens it when it exists.
    if (!ostree_repo_create(repo.get(), OSTREE_REPO_MODE_ARCHIVE, nullptr, failure.out())) {
        failure.raise("cannot create the OSTree cache repository " + path.string());
    }
    return repo;
}

void add_remote(OstreeRepo* repo, const std::string& name,
                const manifest::OstreeContainer& ostree) {
    const bool verify = !ostree.gpg_keys.empty();
    auto options = dictionary({{"gpg-verify", g_variant_new_boolean(verify)},
                               {"gpg-verify-summary", g_variant_new_boolean(false)}});
    GlibFailure failure;
    if (!ostree_repo_remote_change(repo, nullptr, OSTREE_REPO_REMOTE_CHANGE_ADD_IF_NOT_EXISTS,
                                   name.c_str(), source_url(ostree).c_str(), options.get(), nullptr,
                                   failure.out())) {
        failure.raise("cannot add the OSTree remote " + shown_source(ostree));
    }
    for (const auto& key : ostree.gpg_keys) {
        File file(g_file_new_for_path(key.c_str()));
        GlibFailure read_failure;
        GObjectPtr<GFileInputStream> stream(g_file_read(file.get(), nullptr, read_failure.out()));
        if (!stream) {
            read_failure.raise_input("cannot read GPG key " + key.string());
        }
        guint imported = 0;
        GlibFailure import_failure;
        if (!ostree_repo_remote_gpg_import(repo, name.c_str(), G_INPUT_STREAM(stream.get()),
                                           nullptr, &imported, nullptr, import_failure.out())) {
            import_failure.raise_input("cannot import GPG key " + key.string());
        }
    }
}

struct PullProgress {
    Progress& progress;
    std::string ref;
};

void on_pull_progress(OstreeAsyncProgress* async, gpointer data) {
    const auto* pull = static_cast<const PullProgress*>(data);
    guint fetched = 0;
    guint requested = 0;
    guint64 bytes = 0;
    ostree_async_progress_get(async, "fetched", "u", &fetched, "requested", "u", &requested,
                              "bytes-transferred", "t", &bytes, nullptr);
    pull->progress.step("container: pulling " + pull->ref + ": " + std::to_string(fetched) + "/" +
                        std::to_string(requested) + " objects, " + std::to_string(bytes / 1024) +
                        " KiB");
}

// True for the errors of a server that was not reached: GLib's codes, or the libcurl code
// libostree's fetcher puts in the message of a G_IO_ERROR_FAILED ("...: [7] Couldn't connect").
bool is_unreachable(const GError* error) {
    if (error == nullptr || error->domain != G_IO_ERROR) {
        return false;
    }
    switch (error->code) {
    case G_IO_ERROR_HOST_NOT_FOUND:
    case G_IO_ERROR_HOST_UNREACHABLE:
    case G_IO_ERROR_NETWORK_UNREACHABLE:
    case G_IO_ERROR_CONNECTION_REFUSED:
    case G_IO_ERROR_TIMED_OUT:
        return true;
    case G_IO_ERROR_FAILED: {
        const std::string message = error->message;
        for (const char* code : {": [6] ", ": [7] ", ": [28] "}) { // resolve, connect, timeout
            if (message.find(code) != std::string::npos) {
                return true;
            }
        }
        return false;
    }
    default:
        return false;
    }
}

class Puller {
public:
    Puller(OstreeRepo* repo, const manifest::OstreeContainer& ostree, Progress& progress)
        : repo_(repo), ostree_(ostree), progress_(progress), remote_(remote_name(ostree)) {}

    // Pulls and returns the commit to check out; `offline_note` is set when the remote could not
    // be reached and the commit the ref named last time is returned instead.
    std::string pull(std::string& offline_note) {
        add_remote(repo_, remote_, ostree_);
        const char* refs[] = {ostree_.ref.c_str(), nullptr};
        const char* commits[] = {ostree_.commit.c_str(), nullptr};
        auto options =
            ostree_.commit.empty()
                ? dictionary({{"refs", g_variant_new_strv(refs, -1)},
                              {"flags", g_variant_new_int32(OSTREE_REPO_PULL_FLAGS_NONE)}})
                : dictionary({{"refs", g_variant_new_strv(refs, -1)},
                              {"override-commit-ids", g_variant_new_strv(commits, -1)},
                              {"flags", g_variant_new_int32(OSTREE_REPO_PULL_FLAGS_NONE)}});
        PullProgress shown{progress_, ostree_.ref};
        GObjectPtr<OstreeAsyncProgress> async;
        if (progress_.is_terminal()) {
            async.reset(ostree_async_progress_new_and_connect(on_pull_progress, &shown));
        }
        progress_.step("container: pulling " + ostree_.ref + " from " + shown_source(ostree_));
        GlibFailure failure;
        bool pulled = ostree_repo_pull_with_options(repo_, remote_.c_str(), options.get(),
                                                    async.get(), nullptr, failure.out());
        if (async) {
            ostree_async_progress_finish(async.get());
        }
        if (!pulled) {
            return after_failed_pull(failure, offline_note);
        }
        std::string commit = ostree_.commit.empty() ? resolve() : ostree_.commit;
        if (!ostree_.gpg_keys.empty()) {
            verify(commit);
        }
        return commit;
    }

private:
    std::string what() const { return "ostree " + shown_source(ostree_) + " ref " + ostree_.ref; }

    // The commit the remote's ref points at in the cache repository, or "".
    std::string resolve(bool allow_missing = false) const {
        GCharPtr checksum;
        GlibFailure failure;
        const std::string refspec = remote_ + ":" + ostree_.ref;
        char* raw = nullptr;
        if (!ostree_repo_resolve_rev(repo_, refspec.c_str(), allow_missing, &raw, failure.out())) {
            failure.raise(what() + ": cannot resolve the pulled ref");
        }
        checksum.reset(raw);
        return checksum ? checksum.get() : "";
    }

    std::string after_failed_pull(GlibFailure& failure, std::string& offline_note) const {
        const GError* error = failure.get();
        if (!ostree_.url.empty() && ostree_.commit.empty() && is_unreachable(error)) {
            std::string cached = resolve(true);
            if (!cached.empty()) {
                offline_note = what() + ": the remote cannot be reached (" + failure.message() +
                               "); using commit " + cached + " it named when last pulled";
                return cached;
            }
        }
        if (error != nullptr && error->domain == G_IO_ERROR &&
            error->code == G_IO_ERROR_NOT_FOUND) {
            failure.raise_input(what() +
                                (ostree_.commit.empty() ? "" : " commit " + ostree_.commit) +
                                ": not found");
        }
        failure.raise(what() + ": pull failed");
    }

    void verify(const std::string& commit) const {
        GlibFailure failure;
        GObjectPtr<OstreeGpgVerifyResult> result(ostree_repo_verify_commit_for_remote(
            repo_, commit.c_str(), remote_.c_str(), nullptr, failure.out()));
        if (!result ||
            !ostree_gpg_verify_result_require_valid_signature(result.get(), failure.out())) {
            failure.raise(what() + ": commit " + commit +
                          " has no valid signature by the keys of gpg_keys");
        }
    }

    OstreeRepo* repo_;
    const manifest::OstreeContainer& ostree_;
    Progress& progress_;
    std::string remote_;
};

void checkout(OstreeRepo* repo, const std::string& commit, const fs::path& root) {
    make_directory_atomically(root, [&](const fs::path& dir) {
        OstreeRepoCheckoutAtOptions options{};
        options.mode = OSTREE_REPO_CHECKOUT_MODE_USER;
        // Into the empty directory made for it; every file a copy, never a link into objects.
        options.overwrite_mode = OSTREE_REPO_CHECKOUT_OVERWRITE_UNION_FILES;
        options.force_copy = TRUE;
        GlibFailure failure;
        if (!ostree_repo_checkout_at(repo, &options, AT_FDCWD, dir.c_str(), commit.c_str(), nullptr,
                                     failure.out())) {
            failure.raise("cannot check out OSTree commit " + commit);
        }
    });
}

} // namespace

ImageRootfs ostree_rootfs(const manifest::OstreeContainer& ostree, const PrepareOptions& options) {
    auto root_of = [&](const std::string& commit) {
        return options.cache_dir / "containers" / ("ostree-" + commit) / "rootfs";
    };
    std::error_code ec;
    std::string commit = ostree.commit;
    if (commit.empty() || !fs::is_directory(root_of(commit), ec)) {
        auto repo = open_cache_repo(options.cache_dir / "ostree" / "repo");
        std::string offline_note;
        commit = Puller(repo.get(), ostree, options.progress).pull(offline_note);
        if (!offline_note.empty()) {
            options.progress.line(offline_note);
        }
        std::optional<EntryLock> lock; // a run checking out the same commit goes first
        if (!fs::is_directory(root_of(commit), ec)) {
            lock.emplace(options.cache_dir, "ostree-" + commit);
        }
        if (!fs::is_directory(root_of(commit), ec)) {
            options.progress.step("container: checking out " + commit.substr(0, 12));
            try {
                checkout(repo.get(), commit, root_of(commit));
            } catch (const std::exception&) {
                if (!fs::is_directory(root_of(commit), ec)) {
                    fs::remove(root_of(commit).parent_path(), ec); // only when empty
                    throw;
                }
                // Another run checked out the same commit meanwhile: use it.
            }
        }
    }
    return {root_of(commit), "ostree " + shown_source(ostree) + " " + ostree.ref + " (" +
                                 commit.substr(0, 12) + ")"};
}

} // namespace ksx::container

#include "publish/ostree_commit.hpp"

#include "contract/image_name.hpp"
#include "image/squashfs_reader.hpp"
#include "publish/gpg_sign.hpp"
#include "publish/release_image.hpp"
#include "publish/release_merge.hpp"
#include "util/atomic_file.hpp"
#include "util/error.hpp"
#include "util/glib_handles.hpp"
#include "util/temp_dir.hpp"
#include "util/unique_handle.hpp"

#include <algorithm>
#include <fstream>
#include <map>
#include <ostree.h>

namespace ksx::publish {

namespace fs = std::filesystem;

namespace {

using Failure = GlibFailure;
using Modifier = UniqueHandle<OstreeRepoCommitModifier, ostree_repo_commit_modifier_unref>;

// Aborts an open transaction unless it was committed.
class Transaction {
public:
    explicit Transaction(OstreeRepo* repo) : repo_(repo) {
        Failure failure;
        if (!ostree_repo_prepare_transaction(repo_, nullptr, nullptr, failure.out())) {
            failure.raise("cannot start an OSTree transaction");
        }
    }
    void commit() {
        Failure failure;
        if (!ostree_repo_commit_transaction(repo_, nullptr, nullptr, failure.out())) {
            failure.raise("cannot commit the OSTree transaction");
        }
        done_ = true;
    }
    ~Transaction() {
        if (!done_) {
            ostree_repo_abort_transaction(repo_, nullptr, nullptr);
        }
    }
    Transaction(const Transaction&) = delete;
    Transaction& operator=(const Transaction&) = delete;

private:
    OstreeRepo* repo_;
    bool done_ = false;
};

GObjectPtr<OstreeRepo> open_repo(const fs::path& path) {
    GObjectPtr<GFile> file(g_file_new_for_path(path.c_str()));
    GObjectPtr<OstreeRepo> repo(ostree_repo_new(file.get()));
    Failure failure;
    if (fs::exists(path / "config")) {
        if (!ostree_repo_open(repo.get(), nullptr, failure.out())) {
            failure.raise("cannot open OSTree repository " + path.string());
        }
    } else {
        fs::create_directories(path);
        if (!ostree_repo_create(repo.get(), OSTREE_REPO_MODE_ARCHIVE, nullptr, failure.out())) {
            failure.raise("cannot create OSTree repository " + path.string());
        }
    }
    return repo;
}

// The image's tree as host files (owners come from the commit filter, not from here).
void extract(const fs::path& image, const fs::path& dir) {
    auto info = image::read_image_info(image);
    for (const auto& e : info.entries) {
        auto target = e.path.empty() ? dir : dir / e.path;
        if (e.type == 'd') {
            fs::create_directories(target);
        } else if (e.type == 'f') {
            std::ofstream out(target, std::ios::binary);
            out << image::read_image_file(image, e.path);
            if (!out.flush()) {
                throw Error("cannot write " + target.string());
            }
        } else if (e.type == 'l') {
            fs::create_symlink(e.link_target, target);
            continue;
        } else {
            throw InputError(image.string() + ": " + e.path + " is not a file, directory or link");
        }
        fs::permissions(target, static_cast<fs::perms>(e.mode & 07777));
    }
}

OstreeRepoCommitFilterResult root_owned(OstreeRepo*, const char*, GFileInfo* info, gpointer) {
    g_file_info_set_attribute_uint32(info, "unix::uid", 0);
    g_file_info_set_attribute_uint32(info, "unix::gid", 0);
    return OSTREE_REPO_COMMIT_FILTER_ALLOW;
}

GVariantPtr commit_metadata(const ReleaseImage& image) {
    GVariantBuilder builder;
    g_variant_builder_init(&builder, G_VARIANT_TYPE("a{sv}"));
    g_variant_builder_add(&builder, "{sv}", "version", g_variant_new_string(image.version.c_str()));
    g_variant_builder_add(&builder, "{sv}", "kmod-sysext.name",
                          g_variant_new_string(image.name.c_str()));
    if (image.kernel.empty()) {
        g_variant_builder_add(&builder, "{sv}", "kmod-sysext.userspace",
                              g_variant_new_boolean(TRUE));
    } else {
        g_variant_builder_add(&builder, "{sv}", "kmod-sysext.kernel",
                              g_variant_new_string(image.kernel.c_str()));
    }
    if (!image.userspace.empty()) {
        g_variant_builder_add(&builder, "{sv}", "kmod-sysext.userspace-version",
                              g_variant_new_string(image.userspace.c_str()));
    }
    g_variant_builder_add(&builder, "{sv}", "kmod-sysext.image-sha256",
                          g_variant_new_string(image.image.sha256.c_str()));
    if (!image.root_hash.empty()) {
        g_variant_builder_add(&builder, "{sv}", "kmod-sysext.root-hash",
                              g_variant_new_string(image.root_hash.c_str()));
    }
    return GVariantPtr(g_variant_ref_sink(g_variant_builder_end(&builder)));
}

// The root tree checksum and metadata of `commit`, to see whether a new one would be the same.
std::pair<std::string, std::string> commit_content(OstreeRepo* repo, const char* commit) {
    GVariant* raw = nullptr;
    Failure failure;
    if (!ostree_repo_load_variant(repo, OSTREE_OBJECT_TYPE_COMMIT, commit, &raw, failure.out())) {
        failure.raise(std::string("cannot load commit ") + commit);
    }
    GVariantPtr variant(raw);
    GVariantPtr metadata(g_variant_get_child_value(variant.get(), 0));
    GVariantPtr tree(g_variant_get_child_value(variant.get(), 6));
    GCharPtr tree_hex(ostree_checksum_from_bytes_v(tree.get()));
    GCharPtr meta_text(g_variant_print(metadata.get(), TRUE));
    return {tree_hex.get(), meta_text.get()};
}

// Whether `commit` carries a signature by options.gpg_key. libostree's own check in
// ostree_repo_sign_commit() cannot tell: it looks for the key in a legacy pubring.gpg, which
// GnuPG 2.1 and later do not write, and so signs again. The key is exported and passed as a
// keyring instead.
bool signed_by_key(OstreeRepo* repo, const std::string& commit, const OstreeOptions& options) {
    TempDir dir("ksx-ostree-key-");
    auto keyring = dir.path() / "key.gpg";
    write_file_atomic(keyring, gpg_public_keyring(options.gpg_key, options.gpg_homedir));
    GObjectPtr<GFile> keyring_file(g_file_new_for_path(keyring.c_str()));
    Failure failure;
    GObjectPtr<OstreeGpgVerifyResult> result(ostree_repo_verify_commit_ext(
        repo, commit.c_str(), nullptr, keyring_file.get(), nullptr, failure.out()));
    if (!result) {
        if (g_error_matches(failure.get(), OSTREE_GPG_ERROR, OSTREE_GPG_ERROR_NO_SIGNATURE)) {
            return false;
        }
        failure.raise("cannot read the signatures of commit " + commit);
    }
    guint index = 0;
    return ostree_gpg_verify_result_lookup(result.get(), options.gpg_key.c_str(), &index);
}

// Adds options.gpg_key's signature to `commit` unless it has one already, so publishing again
// with a key signs commits made before without one, and never signs one twice.
void sign_commit(OstreeRepo* repo, const std::string& commit, const OstreeOptions& options) {
    if (options.gpg_key.empty() || signed_by_key(repo, commit, options)) {
        return;
    }
    const char* homedir = options.gpg_homedir.empty() ? nullptr : options.gpg_homedir.c_str();
    Failure failure;
    if (!ostree_repo_sign_commit(repo, commit.c_str(), options.gpg_key.c_str(), homedir, nullptr,
                                 failure.out())) {
        failure.raise("cannot sign commit " + commit);
    }
}

OstreeCommit commit_image(OstreeRepo* repo, const ReleaseImage& image,
                          const OstreeOptions& options) {
    OstreeCommit result;
    auto arch = image.architecture.empty() ? std::string("any") : image.architecture;
    // A shared userspace image has no kernel: one ref per OS release, as its images are.
    result.ref = image.kernel.empty()
                     ? "kmod-sysext/" + image.name + std::string(contract::kUserspaceSuffix) + "/" +
                           ostree_ref_component(arch) + "/" +
                           ostree_ref_component(image.os_id + "-" +
                                                (image.sysext_level.empty() ? image.os_version_id
                                                                            : image.sysext_level))
                     : "kmod-sysext/" + image.name + "/" + ostree_ref_component(arch) + "/" +
                           ostree_ref_component(image.kernel);

    TempDir tree_dir("ksx-ostree-");
    auto root_dir = tree_dir.path() / "root";
    extract(image.image.source, root_dir);

    Failure failure;
    char* parent_raw = nullptr;
    if (!ostree_repo_resolve_rev(repo, result.ref.c_str(), TRUE, &parent_raw, failure.out())) {
        failure.raise("cannot resolve " + result.ref);
    }
    GCharPtr parent(parent_raw);

    Transaction transaction(repo);
    GObjectPtr<OstreeMutableTree> mtree(ostree_mutable_tree_new());
    Modifier modifier(ostree_repo_commit_modifier_new(OSTREE_REPO_COMMIT_MODIFIER_FLAGS_SKIP_XATTRS,
                                                      root_owned, nullptr, nullptr));
    GObjectPtr<GFile> dir(g_file_new_for_path(root_dir.c_str()));
    if (!ostree_repo_write_directory_to_mtree(repo, dir.get(), mtree.get(), modifier.get(), nullptr,
                                              failure.out())) {
        failure.raise("cannot write " + image.image.file + " to the OSTree repository");
    }
    GFile* root_raw = nullptr;
    if (!ostree_repo_write_mtree(repo, mtree.get(), &root_raw, nullptr, failure.out())) {
        failure.raise("cannot write the tree of " + image.image.file);
    }
    GObjectPtr<GFile> root(root_raw);
    auto metadata = commit_metadata(image);
    if (parent) {
        auto [tree, meta] = commit_content(repo, parent.get());
        GCharPtr meta_text(g_variant_print(metadata.get(), TRUE));
        auto* repo_root = reinterpret_cast<OstreeRepoFile*>(root.get());
        if (tree == ostree_repo_file_tree_get_contents_checksum(repo_root) &&
            meta == meta_text.get()) {
            transaction.commit();
            result.checksum = parent.get();
            sign_commit(repo, result.checksum, options); // made before without this key
            return result;
        }
    }
    auto subject = image.name + " " + image.version + " for " +
                   (image.kernel.empty() ? "every kernel (shared userspace)" : image.kernel);
    char* commit_raw = nullptr;
    if (!ostree_repo_write_commit_with_time(
            repo, parent.get(), subject.c_str(), nullptr, metadata.get(),
            reinterpret_cast<OstreeRepoFile*>(root.get()), image.build_time, &commit_raw, nullptr,
            failure.out())) {
        failure.raise("cannot commit " + image.image.file);
    }
    GCharPtr commit(commit_raw);
    ostree_repo_transaction_set_ref(repo, nullptr, result.ref.c_str(), commit.get());
    transaction.commit();
    result.checksum = commit.get();
    result.created = true;
    sign_commit(repo, result.checksum, options);
    return result;
}

} // namespace

std::string ostree_ref_component(const std::string& text) {
    std::string out = text;
    std::replace_if(
        out.begin(), out.end(),
        [](char c) {
            return !((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                     c == '-' || c == '.' || c == '_');
        },
        '_');
    return out;
}

std::vector<OstreeCommit> commit_to_ostree(const OstreeOptions& options) {
    // By file name: the same image from two shards once, two different ones refused.
    std::map<std::string, ReleaseImage> images;
    for (const auto& dir : options.from) {
        for (const auto& path : shard_images(dir)) {
            merge_release_image(images, read_release_image(path, {}));
        }
    }
    auto repo = open_repo(options.repo);
    std::vector<OstreeCommit> commits;
    for (const auto& [file, image] : images) {
        commits.push_back(commit_image(repo.get(), image, options));
    }
    Failure failure;
    if (!ostree_repo_regenerate_summary(repo.get(), nullptr, nullptr, failure.out())) {
        failure.raise("cannot regenerate the summary of " + options.repo.string());
    }
    if (!options.gpg_key.empty()) {
        const char* keys[] = {options.gpg_key.c_str(), nullptr};
        const char* homedir = options.gpg_homedir.empty() ? nullptr : options.gpg_homedir.c_str();
        if (!ostree_repo_add_gpg_signature_summary(repo.get(), keys, homedir, nullptr,
                                                   failure.out())) {
            failure.raise("cannot sign the summary of " + options.repo.string());
        }
    }
    return commits;
}

} // namespace ksx::publish

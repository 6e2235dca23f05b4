// read_image_info / read_image_file: squashfs images read back with libsquashfs.
// Images may come from anywhere, so every walk is bounded (depth, entries, file size), and so is
// what an image makes libsquashfs allocate (squashfs_bounds.hpp).
#include "image/squashfs_reader.hpp"

#include "image/squashfs_bounds.hpp"
#include "image/squashfs_fd_file.hpp"
#include "image/squashfs_support.hpp"
#include "util/error.hpp"
#include "util/unique_fd.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <optional>
#include <sqfs/compressor.h>
#include <sqfs/data_reader.h>
#include <sqfs/dir.h>
#include <sqfs/error.h>
#include <sqfs/id_table.h>
#include <sqfs/inode.h>
#include <sqfs/meta_reader.h>
#include <sqfs/super.h>
#include <string_view>
#include <unistd.h>

namespace ksx::image {

namespace {

constexpr int max_depth = 256;
constexpr std::size_t max_entries = 1'000'000;
// Large enough for any kernel module (the proprietary NVIDIA 535 module built for
// 6.12 is about 90 MiB uncompressed), small enough to refuse a crafted size.
constexpr std::uint64_t max_file_size = 1ULL << 30;
// What the inodes read from one image may make libsquashfs allocate for block lists, symlink
// targets and directory indexes, all together: an inode table of a few hundred bytes may
// claim a block list of a megabyte, and many directory entries may name the same inode. 64 MiB
// are the block lists of 2 TiB of files at kmod-sysext's 128 KiB blocks.
constexpr std::uint64_t max_payload_total = 64ULL << 20;

// A directory entry: its name and where its inode is.
struct Child {
    std::string name;
    sqfs_u64 ref = 0;
};

// An opened image: superblock, compressor, id table and metadata readers of the inode and
// directory tables.
class Image {
public:
    explicit Image(const std::filesystem::path& path);
    Image(const Image&) = delete;
    Image& operator=(const Image&) = delete;

    // Throws InputError "IMAGE: not a squashfs image: what: why" unless ret is 0.
    void check(int ret, const std::string& what) const;
    [[noreturn]] void fail(const std::string& message) const;

    const std::filesystem::path& path() const { return path_; }
    std::uint64_t size() const { return size_; }
    const sqfs_super_t& super() const { return super_; }
    sqfs_file_t* file() { return file_->get(); }
    sqfs_compressor_t* compressor() { return cmp_.get(); }
    std::uint32_t id(std::uint16_t index) const;
    // The inode at `ref`, once its variable part is known to fit the inode table and the
    // image's allowance; `what` names it in errors.
    SqfsMem<sqfs_inode_generic_t> inode(sqfs_u64 ref, const std::string& what);
    SqfsMem<sqfs_inode_generic_t> root() { return inode(super_.root_inode_ref, "root inode"); }
    // The entries of directory `dir` (named `path` in errors), at most `limit` of them.
    std::vector<Child> list(const sqfs_inode_generic_t& dir, const std::string& path,
                            std::size_t limit);

private:
    std::filesystem::path path_;
    UniqueFd fd_;
    std::uint64_t size_ = 0;
    std::optional<SqfsFdFile> file_;
    sqfs_super_t super_{};
    SqfsPtr<sqfs_compressor_t> cmp_;
    SqfsPtr<sqfs_id_table_t> id_table_;
    SqfsPtr<sqfs_meta_reader_t> inodes_;
    SqfsPtr<sqfs_meta_reader_t> dirs_;
    std::uint64_t payload_total_ = 0;
};

Image::Image(const std::filesystem::path& path) : path_(path) {
    fd_.reset(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY));
    if (!fd_) {
        throw InputError(path.string() + ": cannot open: " + std::strerror(errno));
    }
    off_t size = ::lseek(fd_.get(), 0, SEEK_END);
    if (size < 0) {
        throw InputError(path.string() + ": cannot read: " + std::strerror(errno));
    }
    size_ = static_cast<std::uint64_t>(size);
    file_.emplace(fd_.get(), size_, false);

    check(sqfs_super_read(&super_, file()), "superblock");
    sqfs_compressor_config_t config;
    auto id = static_cast<SQFS_COMPRESSOR>(super_.compression_id);
    check(sqfs_compressor_config_init(&config, id, super_.block_size, SQFS_COMP_FLAG_UNCOMPRESS),
          "compressor");
    sqfs_compressor_t* raw = nullptr;
    check(sqfs_compressor_create(&config, &raw), "compressor");
    cmp_.reset(raw);
    if ((super_.flags & SQFS_FLAG_COMPRESSOR_OPTIONS) != 0) {
        int ret = cmp_->read_options(cmp_.get(), file());
        check(ret < 0 ? ret : 0, "compressor options");
    }
    id_table_.reset(sqfs_id_table_create(0));
    if (!id_table_) {
        throw Error("out of memory");
    }
    check(sqfs_id_table_read(id_table_.get(), file(), &super_, cmp_.get()), "id table");
    // The tables' bounds as libsquashfs's directory reader sets them.
    std::uint64_t dirs_end =
        std::min({super_.id_table_start, super_.fragment_table_start, super_.export_table_start});
    inodes_.reset(sqfs_meta_reader_create(file(), cmp_.get(), super_.inode_table_start,
                                          super_.directory_table_start));
    dirs_.reset(
        sqfs_meta_reader_create(file(), cmp_.get(), super_.directory_table_start, dirs_end));
    if (!inodes_ || !dirs_) {
        throw Error("out of memory");
    }
}

void Image::check(int ret, const std::string& what) const {
    if (ret == 0) {
        return;
    }
    std::string why = sqfs_error_text(ret);
    if (ret == SQFS_ERROR_IO && file_ && file_->last_errno() != 0) {
        why += ": " + std::string(std::strerror(file_->last_errno()));
    }
    fail(what + ": " + why);
}

void Image::fail(const std::string& message) const {
    throw InputError(path_.string() + ": not a squashfs image: " + message);
}

std::uint32_t Image::id(std::uint16_t index) const {
    sqfs_u32 value = 0;
    check(sqfs_id_table_index_to_id(id_table_.get(), index, &value), "id table");
    return value;
}

SqfsMem<sqfs_inode_generic_t> Image::inode(sqfs_u64 ref, const std::string& what) {
    auto payload = inode_payload(inodes_.get(), super_, ref);
    check(payload.error, what);
    if (!payload.problem.empty()) {
        fail(what + ": " + payload.problem);
    }
    payload_total_ += payload.bytes;
    if (payload_total_ > max_payload_total) {
        fail(what + ": the block lists, symlink targets and directory indexes of its inodes "
                    "need more than 64 MiB");
    }
    sqfs_inode_generic_t* raw = nullptr;
    check(sqfs_meta_reader_read_inode(inodes_.get(), &super_, ref >> 16, ref & 0xFFFF, &raw), what);
    return SqfsMem<sqfs_inode_generic_t>(raw);
}

bool is_dir_inode(const sqfs_inode_generic_t& inode) {
    return inode.base.type == SQFS_INODE_DIR || inode.base.type == SQFS_INODE_EXT_DIR;
}

bool is_file_inode(const sqfs_inode_generic_t& inode) {
    return inode.base.type == SQFS_INODE_FILE || inode.base.type == SQFS_INODE_EXT_FILE;
}

ImageEntry make_entry(Image& image, std::string path, const sqfs_inode_generic_t& inode) {
    ImageEntry entry;
    entry.path = std::move(path);
    entry.mode = inode.base.mode & 07777U;
    entry.uid = image.id(inode.base.uid_idx);
    entry.gid = image.id(inode.base.gid_idx);
    entry.mtime = inode.base.mod_time;
    switch (inode.base.type) {
    case SQFS_INODE_DIR:
    case SQFS_INODE_EXT_DIR:
        entry.type = 'd';
        break;
    case SQFS_INODE_FILE:
    case SQFS_INODE_EXT_FILE: {
        entry.type = 'f';
        sqfs_u64 size = 0;
        image.check(sqfs_inode_get_file_size(&inode, &size), entry.path);
        entry.size = size;
        break;
    }
    case SQFS_INODE_SLINK:
    case SQFS_INODE_EXT_SLINK: {
        entry.type = 'l';
        sqfs_u32 length = inode.data.slink.target_size;
        if (length > inode.payload_bytes_used) {
            image.fail(entry.path + ": symlink target out of bounds");
        }
        entry.link_target.assign(reinterpret_cast<const char*>(inode.extra), length);
        entry.size = length;
        break;
    }
    default:
        entry.type = 'o';
        break;
    }
    return entry;
}

std::vector<Child> Image::list(const sqfs_inode_generic_t& dir, const std::string& path,
                               std::size_t limit) {
    const std::string& what = path.empty() ? "/" : path;
    sqfs_readdir_state_t state{};
    check(sqfs_readdir_state_init(&state, &super_, &dir), what);
    std::vector<Child> children;
    while (true) {
        sqfs_dir_entry_t* raw = nullptr;
        Child child;
        int ret = sqfs_meta_reader_readdir(dirs_.get(), &state, &raw, nullptr, &child.ref);
        check(ret < 0 ? ret : 0, what);
        if (ret > 0) {
            return children;
        }
        SqfsMem<sqfs_dir_entry_t> entry(raw);
        child.name.assign(reinterpret_cast<const char*>(entry->name),
                          static_cast<std::size_t>(entry->size) + 1);
        if (children.size() == limit) {
            fail("more than " + std::to_string(max_entries) + " entries");
        }
        children.push_back(std::move(child));
    }
}

// A directory entry name must be one plain path component.
void check_name(const Image& image, const std::string& dir, std::string_view name) {
    if (name.empty() || name == "." || name == ".." || name.find('/') != std::string_view::npos ||
        name.find('\0') != std::string_view::npos) {
        image.fail("bad entry name in directory \"" + dir + "\"");
    }
}

void walk(Image& image, const sqfs_inode_generic_t& dir, const std::string& path, int depth,
          ImageInfo& info) {
    if (depth > max_depth) {
        image.fail("directories nested deeper than " + std::to_string(max_depth) + " levels");
    }
    // One inode at a time: many entries may name one inode whose block list is large.
    for (const auto& child : image.list(dir, path, max_entries - info.entries.size())) {
        check_name(image, path, child.name);
        std::string child_path = path.empty() ? child.name : path + "/" + child.name;
        auto inode = image.inode(child.ref, child_path);
        info.entries.push_back(make_entry(image, child_path, *inode));
        if (is_dir_inode(*inode)) {
            walk(image, *inode, child_path, depth + 1, info);
        }
    }
}

} // namespace

ImageInfo read_image_info(const std::filesystem::path& path) {
    Image image(path);
    ImageInfo info;
    const char* name =
        sqfs_compressor_name_from_id(static_cast<SQFS_COMPRESSOR>(image.super().compression_id));
    info.compression = name ? name : "unknown";
    info.block_size = image.super().block_size;
    info.mkfs_time = image.super().modification_time;
    info.bytes_used = image.super().bytes_used;
    auto root = image.root();
    if (!is_dir_inode(*root)) {
        image.fail("the root inode is not a directory");
    }
    info.entries.push_back(make_entry(image, "", *root));
    walk(image, *root, "", 1, info);
    return info;
}

std::string read_image_file(const std::filesystem::path& path, const std::string& file_path) {
    Image image(path);
    auto inode = image.root();
    std::string_view rest = file_path;
    while (!rest.empty() && rest.front() == '/') {
        rest.remove_prefix(1);
    }
    auto missing = [&] {
        return InputError(path.string() + ": no file \"" + file_path + "\" in the image");
    };
    int depth = 0;
    while (!rest.empty()) {
        auto slash = rest.find('/');
        std::string name(rest.substr(0, slash));
        rest.remove_prefix(slash == std::string_view::npos ? rest.size() : slash + 1);
        if (name.empty() || name == ".") {
            continue;
        }
        if (name == ".." || !is_dir_inode(*inode) || ++depth > max_depth) {
            throw missing();
        }
        auto children = image.list(*inode, file_path, max_entries);
        auto found = std::find_if(children.begin(), children.end(),
                                  [&](const Child& child) { return child.name == name; });
        if (found == children.end()) {
            throw missing();
        }
        inode = image.inode(found->ref, file_path);
    }
    if (!is_file_inode(*inode)) {
        throw InputError(path.string() + ": \"" + file_path + "\" is not a regular file");
    }
    sqfs_u64 size = 0;
    image.check(sqfs_inode_get_file_size(inode.get(), &size), file_path);
    if (size > max_file_size) {
        throw InputError(path.string() + ": \"" + file_path + "\" is larger than 1 GiB");
    }
    SqfsPtr<sqfs_data_reader_t> data(
        sqfs_data_reader_create(image.file(), image.super().block_size, image.compressor(), 0));
    if (!data) {
        throw Error("out of memory");
    }
    if (auto problem = fragment_table_problem(image.super(), image.size()); !problem.empty()) {
        image.fail(problem);
    }
    image.check(sqfs_data_reader_load_fragment_table(data.get(), &image.super()), "fragment table");
    std::string content(size, '\0');
    std::uint64_t done = 0;
    while (done < size) {
        auto chunk = static_cast<sqfs_u32>(std::min<std::uint64_t>(size - done, 1U << 20));
        sqfs_s32 n =
            sqfs_data_reader_read(data.get(), inode.get(), done, content.data() + done, chunk);
        if (n <= 0) {
            image.check(n < 0 ? n : SQFS_ERROR_CORRUPTED, file_path);
        }
        done += static_cast<std::uint64_t>(n);
    }
    return content;
}

} // namespace ksx::image

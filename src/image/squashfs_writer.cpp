// write_squashfs: lays a Tree out as a squashfs image with libsquashfs, the way
// squashfs-tools-ng's gensquashfs does (same order of data, inodes and tables).
#include "image/squashfs_writer.hpp"

#include "image/block_cache.hpp"
#include "image/squashfs_fd_file.hpp"
#include "image/squashfs_support.hpp"
#include "util/atomic_file.hpp"
#include "util/error.hpp"
#include "util/unique_fd.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <optional>
#include <sqfs/block.h>
#include <sqfs/block_processor.h>
#include <sqfs/block_writer.h>
#include <sqfs/compressor.h>
#include <sqfs/dir_writer.h>
#include <sqfs/error.h>
#include <sqfs/frag_table.h>
#include <sqfs/id_table.h>
#include <sqfs/inode.h>
#include <sqfs/meta_writer.h>
#include <sqfs/super.h>
#include <string_view>
#include <sys/stat.h>
#include <unistd.h>
#include <unordered_map>
#include <vector>

namespace ksx::image {

namespace {

constexpr std::uint32_t no_xattr = 0xFFFFFFFF;
constexpr std::uint64_t device_block_size = 4096;

// One node of the image in tree form, with what the layout assigns to it.
struct Item {
    std::string_view name; // last path component ("" for the root)
    std::string_view path;
    const Tree::Node* node = nullptr;
    std::size_t parent = 0;
    std::vector<std::size_t> children; // sorted by name
    std::uint32_t inode_num = 0;
    std::uint64_t inode_ref = 0;
    std::uint32_t subdirs = 0;
    sqfs_inode_generic_t* file_inode = nullptr; // filled by the block processor
};

// Frees the file inodes the block processor allocated; declared before the processor so
// that the processor (which may still update them) goes away first.
struct Items {
    std::vector<Item> all;
    Items() = default;
    Items(const Items&) = delete;
    Items& operator=(const Items&) = delete;
    ~Items() {
        for (auto& item : all) {
            sqfs_free(item.file_inode);
        }
    }
};

struct FreeDeleter {
    void operator()(void* memory) const { std::free(memory); }
};

bool is_dir(const Item& item) {
    return item.node->type == Tree::Node::Type::Directory;
}

std::uint16_t type_bits(const Tree::Node& node) {
    switch (node.type) {
    case Tree::Node::Type::Directory:
        return SQFS_INODE_MODE_DIR;
    case Tree::Node::Type::File:
        return SQFS_INODE_MODE_REG;
    case Tree::Node::Type::Symlink:
        return SQFS_INODE_MODE_LNK;
    }
    return 0;
}

class Writer {
public:
    Writer(const Tree& tree, const std::filesystem::path& output, const WriteOptions& options)
        : tree_(tree), output_(output), options_(options) {}

    void run();

private:
    void check(int ret, const std::string& what) const;
    void build_items();
    void number_inodes(std::size_t dir);
    void setup();
    void write_file_data();
    void append_host_file(const Item& item);
    void write_inode(Item& item);
    void finish_tables();

    const Tree& tree_;
    const std::filesystem::path& output_;
    const WriteOptions& options_;

    Items items_;
    std::vector<std::size_t> by_inode_; // item index for inode number i + 1
    std::uint32_t inode_count_ = 0;

    std::optional<AtomicFile> out_;
    std::optional<SqfsFdFile> file_;
    sqfs_super_t super_{};
    SqfsPtr<sqfs_compressor_t> cmp_;
    SqfsPtr<sqfs_compressor_t> uncmp_;
    SqfsPtr<sqfs_block_writer_t> block_writer_;
    SqfsPtr<sqfs_frag_table_t> frag_table_;
    SqfsPtr<sqfs_id_table_t> id_table_;
    SqfsPtr<sqfs_meta_writer_t> inode_meta_;
    SqfsPtr<sqfs_meta_writer_t> dir_meta_;
    SqfsPtr<sqfs_dir_writer_t> dir_writer_;
    SqfsPtr<sqfs_block_processor_t> processor_; // last: destroyed first
};

void Writer::check(int ret, const std::string& what) const {
    if (ret == 0) {
        return;
    }
    std::string why = sqfs_error_text(ret);
    if (ret == SQFS_ERROR_IO && file_ && file_->last_errno() != 0) {
        why += ": " + std::string(std::strerror(file_->last_errno()));
    }
    throw Error("failed to write " + output_.string() + ": " + what + ": " + why);
}

void Writer::build_items() {
    const auto& nodes = tree_.nodes();
    items_.all.reserve(nodes.size());
    std::unordered_map<std::string_view, std::size_t> index;
    index.reserve(nodes.size());
    // The map is sorted, so every parent comes before its children.
    for (const auto& [path, node] : nodes) {
        Item item;
        item.path = path;
        item.node = &node;
        if (!path.empty()) {
            auto slash = path.rfind('/');
            std::string_view parent = slash == std::string::npos
                                          ? std::string_view{}
                                          : std::string_view(path).substr(0, slash);
            item.name = slash == std::string::npos ? std::string_view(path)
                                                   : std::string_view(path).substr(slash + 1);
            auto found = index.find(parent);
            if (found == index.end() || !is_dir(items_.all[found->second])) {
                throw Error("internal error: image path \"" + path + "\" has no parent directory");
            }
            item.parent = found->second;
        }
        index.emplace(item.path, items_.all.size());
        items_.all.push_back(std::move(item));
    }
    for (std::size_t i = 1; i < items_.all.size(); ++i) {
        auto& parent = items_.all[items_.all[i].parent];
        parent.children.push_back(i);
        if (is_dir(items_.all[i])) {
            ++parent.subdirs;
        }
    }
    // Directory entries are sorted by name bytes (as strcmp does), not by full path.
    for (auto& item : items_.all) {
        std::sort(item.children.begin(), item.children.end(), [this](std::size_t a, std::size_t b) {
            return items_.all[a].name < items_.all[b].name;
        });
    }
}

// gensquashfs' numbering: subdirectories first (depth first), then this directory's
// children in order; the root gets the last number. Every directory is numbered after
// all of its children, so its entries can point at inodes that are already written.
void Writer::number_inodes(std::size_t dir) {
    for (auto child : items_.all[dir].children) {
        if (is_dir(items_.all[child])) {
            number_inodes(child);
        }
    }
    for (auto child : items_.all[dir].children) {
        items_.all[child].inode_num = ++inode_count_;
    }
}

void Writer::setup() {
    const auto bs = options_.block_size;
    if (bs < SQFS_MIN_BLOCK_SIZE || bs > SQFS_MAX_BLOCK_SIZE || (bs & (bs - 1)) != 0) {
        throw Error("invalid squashfs block size " + std::to_string(bs) +
                    ": must be a power of two from 4096 to 1048576");
    }
    SQFS_COMPRESSOR id = SQFS_COMP_ZSTD;
    int min_level = SQFS_ZSTD_MIN_LEVEL;
    int max_level = SQFS_ZSTD_MAX_LEVEL;
    if (options_.compression == Compression::Xz) {
        id = SQFS_COMP_XZ;
        min_level = SQFS_XZ_MIN_LEVEL;
        max_level = SQFS_XZ_MAX_LEVEL;
    } else if (options_.compression == Compression::Gzip) {
        id = SQFS_COMP_GZIP;
        min_level = SQFS_GZIP_MIN_LEVEL;
        max_level = SQFS_GZIP_MAX_LEVEL;
    }
    if (options_.level && (*options_.level < min_level || *options_.level > max_level)) {
        throw InputError("compression level " + std::to_string(*options_.level) +
                         " is out of range for " + sqfs_compressor_name_from_id(id) + " (" +
                         std::to_string(min_level) + "-" + std::to_string(max_level) + ")");
    }

    out_.emplace(output_, 0644);
    file_.emplace(out_->fd(), 0, true);
    sqfs_file_t* file = file_->get();

    sqfs_compressor_config_t config;
    check(sqfs_compressor_config_init(&config, id, bs, 0), "compressor settings");
    if (options_.level) {
        config.level = static_cast<sqfs_u32>(*options_.level);
    }
    sqfs_compressor_t* raw = nullptr;
    check(sqfs_compressor_create(&config, &raw), "creating the compressor");
    cmp_.reset(raw);
    if (options_.block_cache) {
        auto settings = std::string(sqfs_compressor_name_from_id(id)) + " level " +
                        std::to_string(config.level) + " block " + std::to_string(bs) + " flags " +
                        std::to_string(config.flags);
        cmp_.reset(caching_compressor(cmp_.release(), options_.block_cache, settings));
    }
    config.flags |= SQFS_COMP_FLAG_UNCOMPRESS;
    check(sqfs_compressor_create(&config, &raw), "creating the decompressor");
    uncmp_.reset(raw);

    check(sqfs_super_init(&super_, bs, options_.mtime, id), "superblock");
    check(sqfs_super_write(&super_, file), "superblock");
    int written = cmp_->write_options(cmp_.get(), file);
    if (written < 0) {
        check(written, "compressor options");
    }
    if (written > 0) {
        super_.flags |= SQFS_FLAG_COMPRESSOR_OPTIONS;
    }

    auto created = [this](auto* object, const char* what) {
        if (object == nullptr) {
            throw Error("failed to write " + output_.string() + ": cannot create " + what);
        }
        return object;
    };
    block_writer_.reset(
        created(sqfs_block_writer_create(file, device_block_size, 0), "the block writer"));
    frag_table_.reset(created(sqfs_frag_table_create(0), "the fragment table"));
    id_table_.reset(created(sqfs_id_table_create(0), "the id table"));
    inode_meta_.reset(created(sqfs_meta_writer_create(file, cmp_.get(), 0), "the inode writer"));
    dir_meta_.reset(
        created(sqfs_meta_writer_create(file, cmp_.get(), SQFS_META_WRITER_KEEP_IN_MEMORY),
                "the directory writer"));
    dir_writer_.reset(created(sqfs_dir_writer_create(dir_meta_.get(), 0), "the directory writer"));

    sqfs_block_processor_desc_t desc{};
    desc.size = sizeof(desc);
    desc.max_block_size = bs;
    desc.num_workers = std::max(1U, options_.threads);
    // Enough blocks in flight that no worker waits for the reader.
    desc.max_backlog = 10 * desc.num_workers;
    desc.cmp = cmp_.get();
    desc.wr = block_writer_.get();
    desc.tbl = frag_table_.get();
    // With these, a fragment that looks like a duplicate is read back and compared.
    desc.file = file;
    desc.uncmp = uncmp_.get();
    sqfs_block_processor_t* processor = nullptr;
    check(sqfs_block_processor_create_ex(&desc, &processor), "creating the block processor");
    processor_.reset(processor);
}

void Writer::append_host_file(const Item& item) {
    const auto& source = item.node->source;
    if (source.empty()) {
        throw Error("no source file given for image path \"" + std::string(item.path) + "\"");
    }
    UniqueFd fd(::open(source.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY));
    if (!fd) {
        throw_errno("failed to open " + source.string() + " (for " + std::string(item.path) + ")");
    }
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0) {
        throw_errno("failed to stat " + source.string());
    }
    if (!S_ISREG(st.st_mode)) {
        throw Error("cannot add " + source.string() + " to the image: not a regular file");
    }
    ::posix_fadvise(fd.get(), 0, 0, POSIX_FADV_SEQUENTIAL);
    // Streamed in a few blocks at a time: files of any size, bounded memory.
    std::vector<char> buffer(4 * std::size_t{options_.block_size});
    while (true) {
        ssize_t n = ::read(fd.get(), buffer.data(), buffer.size());
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0) {
            throw_errno("failed to read " + source.string());
        }
        if (n == 0) {
            break;
        }
        check(sqfs_block_processor_append(processor_.get(), buffer.data(),
                                          static_cast<std::size_t>(n)),
              "data of " + std::string(item.path));
    }
}

// File contents in depth-first order of the sorted tree, like gensquashfs.
void Writer::write_file_data() {
    const auto files = static_cast<std::size_t>(
        std::count_if(items_.all.begin(), items_.all.end(),
                      [](const Item& item) { return item.node->type == Tree::Node::Type::File; }));
    std::size_t written = 0;
    std::vector<std::size_t> stack{0};
    while (!stack.empty()) {
        auto& item = items_.all[stack.back()];
        stack.pop_back();
        if (is_dir(item)) {
            stack.insert(stack.end(), item.children.rbegin(), item.children.rend());
            continue;
        }
        if (item.node->type != Tree::Node::Type::File) {
            continue;
        }
        check(sqfs_block_processor_begin_file(processor_.get(), &item.file_inode, nullptr, 0),
              "starting " + std::string(item.path));
        if (item.node->content) {
            const auto& content = *item.node->content;
            check(sqfs_block_processor_append(processor_.get(), content.data(), content.size()),
                  "data of " + std::string(item.path));
        } else {
            append_host_file(item);
        }
        check(sqfs_block_processor_end_file(processor_.get()),
              "finishing " + std::string(item.path));
        if (options_.on_file) {
            options_.on_file(++written, files);
        }
    }
    check(sqfs_block_processor_finish(processor_.get()), "file data");
}

void Writer::write_inode(Item& item) {
    const Tree::Node& node = *item.node;
    sqfs_inode_generic_t* inode = nullptr;
    std::unique_ptr<sqfs_inode_generic_t, FreeDeleter> owned;
    if (node.type == Tree::Node::Type::Directory) {
        check(sqfs_dir_writer_begin(dir_writer_.get(), 0), "directory " + std::string(item.path));
        for (auto index : item.children) {
            const auto& child = items_.all[index];
            std::string name(child.name);
            check(sqfs_dir_writer_add_entry(dir_writer_.get(), name.c_str(), child.inode_num,
                                            child.inode_ref, type_bits(*child.node)),
                  "directory " + std::string(item.path));
        }
        check(sqfs_dir_writer_end(dir_writer_.get()), "directory " + std::string(item.path));
        std::uint32_t parent = item.path.empty() ? 0 : items_.all[item.parent].inode_num;
        owned.reset(sqfs_dir_writer_create_inode(dir_writer_.get(), 0, no_xattr, parent));
        if (!owned) {
            check(SQFS_ERROR_ALLOC, "directory " + std::string(item.path));
        }
        inode = owned.get();
        std::uint32_t nlink = 2 + item.subdirs;
        if (inode->base.type == SQFS_INODE_DIR) {
            inode->data.dir.nlink = nlink;
        } else {
            inode->data.dir_ext.nlink = nlink;
        }
    } else if (node.type == Tree::Node::Type::File) {
        inode = item.file_inode;
        if (inode->base.type == SQFS_INODE_EXT_FILE) {
            inode->data.file_ext.nlink = 1;
        }
    } else {
        const std::string& target = node.target;
        owned.reset(static_cast<sqfs_inode_generic_t*>(
            std::calloc(1, sizeof(sqfs_inode_generic_t) + target.size())));
        if (!owned) {
            check(SQFS_ERROR_ALLOC, "symlink " + std::string(item.path));
        }
        inode = owned.get();
        inode->base.type = SQFS_INODE_SLINK;
        inode->data.slink.nlink = 1;
        inode->data.slink.target_size = static_cast<sqfs_u32>(target.size());
        inode->payload_bytes_available = static_cast<sqfs_u32>(target.size());
        inode->payload_bytes_used = static_cast<sqfs_u32>(target.size());
        std::memcpy(inode->extra, target.data(), target.size());
    }

    inode->base.mode = static_cast<sqfs_u16>(type_bits(node) | (node.mode & 07777U));
    inode->base.mod_time = options_.mtime;
    inode->base.inode_number = item.inode_num;
    check(sqfs_inode_set_xattr_index(inode, no_xattr), "inode of " + std::string(item.path));
    if (node.type != Tree::Node::Type::Directory) {
        check(sqfs_inode_make_basic(inode), "inode of " + std::string(item.path));
    }
    // Every inode is owned by root:root.
    check(sqfs_id_table_id_to_index(id_table_.get(), 0, &inode->base.uid_idx), "id table");
    check(sqfs_id_table_id_to_index(id_table_.get(), 0, &inode->base.gid_idx), "id table");

    sqfs_u64 block = 0;
    sqfs_u32 offset = 0;
    sqfs_meta_writer_get_position(inode_meta_.get(), &block, &offset);
    item.inode_ref = (block << 16) | offset;
    check(sqfs_meta_writer_write_inode(inode_meta_.get(), inode),
          "inode of " + std::string(item.path));
}

void Writer::finish_tables() {
    sqfs_file_t* file = file_->get();
    super_.inode_count = inode_count_;
    super_.inode_table_start = file_->size();
    for (auto index : by_inode_) {
        write_inode(items_.all[index]);
    }
    check(sqfs_meta_writer_flush(inode_meta_.get()), "inode table");
    check(sqfs_meta_writer_flush(dir_meta_.get()), "directory table");
    super_.root_inode_ref = items_.all[0].inode_ref;
    super_.directory_table_start = file_->size();
    check(sqfs_meta_write_write_to_file(dir_meta_.get()), "directory table");
    check(sqfs_frag_table_write(frag_table_.get(), file, &super_, cmp_.get()), "fragment table");
    check(sqfs_id_table_write(id_table_.get(), file, &super_, cmp_.get()), "id table");
    super_.flags |= SQFS_FLAG_NO_XATTRS;
    super_.xattr_id_table_start = 0xFFFFFFFFFFFFFFFFULL;
    super_.bytes_used = file_->size();
    check(sqfs_super_write(&super_, file), "superblock");
    // Loop devices want whole device blocks.
    std::uint64_t tail = super_.bytes_used % device_block_size;
    if (tail != 0) {
        std::vector<char> zeros(device_block_size - tail, 0);
        check(file->write_at(file, super_.bytes_used, zeros.data(), zeros.size()), "padding");
    }
}

void Writer::run() {
    build_items();
    number_inodes(0);
    items_.all[0].inode_num = ++inode_count_;
    by_inode_.resize(inode_count_);
    for (std::size_t i = 0; i < items_.all.size(); ++i) {
        by_inode_[items_.all[i].inode_num - 1] = i;
    }
    setup();
    try {
        write_file_data();
    } catch (...) {
        // libsquashfs 1.2 leaks the blocks still in flight when a block processor is
        // destroyed mid-file; draining it first frees them. The data goes to the temp file,
        // which is removed anyway, and the first error is the one reported.
        sqfs_block_processor_end_file(processor_.get());
        sqfs_block_processor_finish(processor_.get());
        throw;
    }
    processor_.reset();
    finish_tables();
    file_.reset();
    out_->commit();
}

} // namespace

void write_squashfs(const Tree& tree, const std::filesystem::path& output,
                    const WriteOptions& options) {
    Writer writer(tree, output, options);
    writer.run();
}

} // namespace ksx::image

#include "image/block_cache.hpp"

#include "image/squashfs_support.hpp"
#include "util/sha256.hpp"

#include <cstring>
#include <new>
#include <string_view>

namespace ksx::image {

std::optional<BlockCache::Entry> BlockCache::find(const std::string& key) const {
    std::lock_guard lock(mutex_);
    auto it = entries_.find(key);
    if (it == entries_.end()) {
        return std::nullopt;
    }
    return it->second;
}

void BlockCache::insert(const std::string& key, Entry entry) {
    std::lock_guard lock(mutex_);
    if (bytes_ + entry.data.size() > max_bytes_) {
        return;
    }
    bytes_ += entry.data.size();
    entries_.try_emplace(key, std::move(entry));
}

void BlockCache::count_hit(std::size_t input_size) {
    std::lock_guard lock(mutex_);
    ++hits_;
    saved_bytes_ += input_size;
}

std::uint64_t BlockCache::hits() const {
    std::lock_guard lock(mutex_);
    return hits_;
}

std::uint64_t BlockCache::saved_bytes() const {
    std::lock_guard lock(mutex_);
    return saved_bytes_;
}

namespace {

struct CachingState {
    SqfsPtr<sqfs_compressor_t> inner;
    std::shared_ptr<BlockCache> cache;
    std::string settings;
};

// libsquashfs sees only `base`; the layout is standard, so a pointer to `base` is a pointer to
// the whole object. The state lives behind a plain pointer to keep it that way; `destroy`
// frees both.
struct CachingCompressor {
    sqfs_compressor_t base;
    CachingState* state;
};

CachingCompressor* self(const void* object) {
    return reinterpret_cast<CachingCompressor*>(const_cast<void*>(object));
}

// Empty when hashing fails: the block is then compressed as if there were no cache. Called from
// libsquashfs's C code, so nothing may throw out of it.
std::string block_key(const std::string& settings, const sqfs_u8* in, sqfs_u32 size) noexcept {
    try {
        Sha256Stream digest;
        digest.update(settings);
        digest.update(std::string_view("\0", 1));
        digest.update(std::string_view(reinterpret_cast<const char*>(in), size));
        return digest.hex();
    } catch (...) {
        return {};
    }
}

sqfs_compressor_t* make(SqfsPtr<sqfs_compressor_t> inner, std::shared_ptr<BlockCache> cache,
                        std::string settings);

void destroy(sqfs_object_t* object) {
    auto* compressor = self(object);
    std::unique_ptr<CachingState> state(compressor->state);
    std::unique_ptr<CachingCompressor> owner(compressor);
}

sqfs_object_t* copy(const sqfs_object_t* object) {
    const auto* state = self(object)->state;
    SqfsPtr<sqfs_compressor_t> inner(
        static_cast<sqfs_compressor_t*>(sqfs_copy(state->inner.get())));
    if (!inner) {
        return nullptr;
    }
    try {
        return &make(std::move(inner), state->cache, state->settings)->base;
    } catch (const std::bad_alloc&) {
        return nullptr;
    }
}

void get_configuration(const sqfs_compressor_t* compressor, sqfs_compressor_config_t* config) {
    auto* inner = self(compressor)->state->inner.get();
    inner->get_configuration(inner, config);
}

int write_options(sqfs_compressor_t* compressor, sqfs_file_t* file) {
    auto* inner = self(compressor)->state->inner.get();
    return inner->write_options(inner, file);
}

int read_options(sqfs_compressor_t* compressor, sqfs_file_t* file) {
    auto* inner = self(compressor)->state->inner.get();
    return inner->read_options(inner, file);
}

sqfs_s32 do_block(sqfs_compressor_t* compressor, const sqfs_u8* in, sqfs_u32 size, sqfs_u8* out,
                  sqfs_u32 outsize) {
    auto* state = self(compressor)->state;
    auto* inner = state->inner.get();
    auto key = block_key(state->settings, in, size);
    if (key.empty()) {
        return inner->do_block(inner, in, size, out, outsize);
    }
    std::optional<BlockCache::Entry> entry;
    try {
        entry = state->cache->find(key);
    } catch (const std::bad_alloc&) {
    }
    if (entry) {
        if (!entry->compressible) {
            state->cache->count_hit(size);
            return 0;
        }
        if (entry->data.size() <= outsize) {
            std::memcpy(out, entry->data.data(), entry->data.size());
            state->cache->count_hit(size);
            return static_cast<sqfs_s32>(entry->data.size());
        }
    }
    sqfs_s32 written = inner->do_block(inner, in, size, out, outsize);
    try {
        if (written == 0) {
            state->cache->insert(key, {false, {}});
        } else if (written > 0) {
            state->cache->insert(key, {true, std::vector<std::uint8_t>(out, out + written)});
        }
    } catch (const std::bad_alloc&) {
        // Not remembering a block only costs time.
    }
    return written;
}

sqfs_compressor_t* make(SqfsPtr<sqfs_compressor_t> inner, std::shared_ptr<BlockCache> cache,
                        std::string settings) {
    auto state = std::make_unique<CachingState>(
        CachingState{std::move(inner), std::move(cache), std::move(settings)});
    auto compressor = std::make_unique<CachingCompressor>();
    compressor->base.base.destroy = destroy;
    compressor->base.base.copy = copy;
    compressor->base.get_configuration = get_configuration;
    compressor->base.write_options = write_options;
    compressor->base.read_options = read_options;
    compressor->base.do_block = do_block;
    compressor->state = state.release();
    return &compressor.release()->base;
}

} // namespace

sqfs_compressor_t* caching_compressor(sqfs_compressor_t* inner, std::shared_ptr<BlockCache> cache,
                                      std::string settings) {
    return make(SqfsPtr<sqfs_compressor_t>(inner), std::move(cache), std::move(settings));
}

} // namespace ksx::image

// Compressed blocks remembered by their input, so data that every kernel's image holds (the
// firmware and libraries of a driver's userspace) is compressed once per run, not once per
// image.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <sqfs/compressor.h>
#include <string>
#include <unordered_map>
#include <vector>

namespace ksx::image {

// Thread-safe: the block processor's workers share one cache. Keys are SHA-256 digests of the
// compressor's settings and the input block; values are the compressor's output, or nothing
// when it reported the block incompressible. Once `max_bytes` of output is held, new blocks
// are no longer remembered (memory stays bounded; the output never changes).
class BlockCache {
public:
    explicit BlockCache(std::size_t max_bytes = std::size_t{1} << 30) : max_bytes_(max_bytes) {}

    struct Entry {
        bool compressible = false;
        std::vector<std::uint8_t> data;
    };
    std::optional<Entry> find(const std::string& key) const;
    void insert(const std::string& key, Entry entry);

    // Lookups answered from the cache and bytes of input they saved compressing.
    std::uint64_t hits() const;
    std::uint64_t saved_bytes() const;

    // Counts a hit for `input_size` bytes (called by the compressor wrapper).
    void count_hit(std::size_t input_size);

private:
    mutable std::mutex mutex_;
    std::unordered_map<std::string, Entry> entries_;
    std::size_t bytes_ = 0;
    std::size_t max_bytes_;
    std::uint64_t hits_ = 0;
    std::uint64_t saved_bytes_ = 0;
};

// Wraps `inner` (ownership passes to the result) in a compressor that answers blocks it has
// seen from `cache` and compresses the others with `inner`. Copies made by the block processor
// for its workers share the cache. Compressors are deterministic, so the image is the same as
// with `inner` alone. `settings` names everything besides the input that shapes the output
// (compressor, level, block size), so caches can be shared between writers safely.
sqfs_compressor_t* caching_compressor(sqfs_compressor_t* inner, std::shared_ptr<BlockCache> cache,
                                      std::string settings);

} // namespace ksx::image

#include "pack/image_record.hpp"

#include "contract/module_compression.hpp"
#include "sign/image_signature.hpp"

namespace ksx::pack {

namespace {

const char* to_string(CacheUse use) {
    switch (use) {
    case CacheUse::Off:
        return "off";
    case CacheUse::Hit:
        return "hit";
    case CacheUse::Miss:
        break;
    }
    return "miss";
}

contract::ModuleCompression compression_named(const std::string& name) {
    if (auto compression = contract::module_compression_named(name)) {
        return *compression;
    }
    throw std::invalid_argument("module compression \"" + name + "\"");
}

nlohmann::json verity_json(const std::optional<VerityRecord>& verity) {
    if (!verity) {
        return nullptr;
    }
    if (verity->ddi) {
        return {{"format", "ddi"}, {"root_hash", verity->root_hash}, {"signer", verity->signer}};
    }
    return {{"root_hash", verity->root_hash},
            {"verity", verity->verity.string()},
            {"roothash", verity->roothash.string()},
            {"roothash_p7s", verity->roothash_p7s.string()},
            {"signer", verity->signer}};
}

} // namespace

nlohmann::json to_json(const ImageRecord& record) {
    nlohmann::json modules = nlohmann::json::array();
    for (const auto& m : record.modules) {
        modules.push_back({{"name", m.name},
                           {"vermagic", m.vermagic},
                           {"depends", m.depends},
                           {"kernel_depends", m.kernel_depends}});
    }
    nlohmann::json json{{"kernel", record.kernel},
                        {"version", record.version},
                        {"path", record.path.string()},
                        {"size", record.size},
                        {"sha256", record.sha256},
                        {"module_signature_hash", record.module_signature_hash},
                        {"module_compression",
                         {{"compression", contract::to_string(record.compression.compression)},
                          {"reason", record.compression.reason}}},
                        {"verity", verity_json(record.verity)},
                        {"modules", modules},
                        {"build_cache", to_string(record.build_cache)}};
    if (const auto& stats = record.compiler_cache) {
        json["compiler_cache"] = {
            {"hits", stats->hits}, {"misses", stats->misses}, {"uncached", stats->uncached}};
    }
    if (!record.target.empty()) {
        json["target"] = record.target;
    }
    if (record.kernel.empty()) {
        // The shared userspace image of a split build: no kernel, no modules.
        json["kernel"] = nullptr;
        json["userspace"] = true;
    }
    return json;
}

std::string cache_record(const ImageRecord& record) {
    auto kept = to_json(record);
    kept.erase("path");        // set where it is restored
    kept.erase("build_cache"); // said by each run
    kept.erase("compiler_cache");
    kept.erase("target");
    return kept.dump();
}

std::optional<ImageRecord> from_cache_record(std::string_view text,
                                             const std::filesystem::path& image) {
    auto json = nlohmann::json::parse(text, nullptr, false);
    if (json.is_discarded() || !json.is_object()) {
        return std::nullopt;
    }
    try {
        ImageRecord record;
        // null: the shared userspace image of a split build
        if (const auto& kernel = json.at("kernel"); !kernel.is_null()) {
            record.kernel = kernel.get<std::string>();
        }
        record.version = json.at("version").get<std::string>();
        record.path = image;
        record.size = json.at("size").get<std::uint64_t>();
        record.sha256 = json.at("sha256").get<std::string>();
        record.module_signature_hash = json.at("module_signature_hash").get<std::string>();
        const auto& compression = json.at("module_compression");
        record.compression.compression =
            compression_named(compression.at("compression").get<std::string>());
        record.compression.reason = compression.at("reason").get<std::string>();
        if (const auto& verity = json.at("verity"); !verity.is_null()) {
            VerityRecord v;
            v.ddi = verity.value("format", "") == "ddi";
            v.root_hash = verity.at("root_hash").get<std::string>();
            v.signer = verity.at("signer").get<std::string>();
            if (!v.ddi) {
                // Paths name this run's output directory.
                auto sidecars = sign::sidecar_paths(image);
                v.verity = sidecars.verity;
                v.roothash = sidecars.roothash;
                v.roothash_p7s = sidecars.signature;
            }
            record.verity = std::move(v);
        }
        for (const auto& m : json.at("modules")) {
            record.modules.push_back({m.at("name").get<std::string>(),
                                      m.at("vermagic").get<std::string>(),
                                      m.at("depends").get<std::vector<std::string>>(),
                                      m.at("kernel_depends").get<std::vector<std::string>>()});
        }
        record.build_cache = CacheUse::Hit;
        return record;
    } catch (const std::exception&) {
        return std::nullopt; // not a record of this version: rebuilt
    }
}

} // namespace ksx::pack

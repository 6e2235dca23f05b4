// A real OCI registry for the tests (Debian's docker-registry on 127.0.0.1), and OCI image
// layouts built by the test and pushed to it with skopeo.
#pragma once

#include "server_fixture.hpp"
#include "tar_fixture.hpp"
#include "util/file_io.hpp"
#include "util/oci_platform.hpp"
#include "util/process.hpp"
#include "util/sha256.hpp"

#include <doctest/doctest.h>
#include <filesystem>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace ksx::test {

// Where the registry asks clients to get bearer tokens (tests/data/http_test_server.py's
// /token), and the certificate its tokens are signed with.
struct TokenAuth {
    std::string realm;
    std::filesystem::path cert;
};

class LocalRegistry {
public:
    explicit LocalRegistry(const std::string& name, const TokenAuth* token = nullptr)
        : dir_(std::filesystem::absolute(name)), port_(free_port()) {
        std::filesystem::create_directories(dir_ / "storage");
        std::string config = "version: 0.1\n"
                             "log:\n  level: error\n  accesslog:\n    disabled: true\n"
                             "storage:\n  filesystem:\n    rootdirectory: " +
                             (dir_ / "storage").string() +
                             "\n  delete:\n    enabled: true\n"
                             "http:\n  addr: 127.0.0.1:" +
                             port_ + "\n";
        if (token != nullptr) {
            config += "auth:\n  token:\n    realm: " + token->realm +
                      "\n    service: ksx-test-registry\n    issuer: ksx-test-issuer\n"
                      "    rootcertbundle: " +
                      token->cert.string() + "\n";
        }
        std::ofstream(dir_ / "config.yml") << config;
        process_ = std::make_unique<Spawned>(
            std::vector<std::string>{"docker-registry", "serve", (dir_ / "config.yml").string()},
            dir_ / "registry.log");
        REQUIRE_MESSAGE(wait_for_port(port_),
                        "docker-registry did not start: " << read_file(dir_ / "registry.log"));
    }

    std::string host() const { return "127.0.0.1:" + port_; }
    // The registry's copy of a blob.
    std::filesystem::path blob_file(const std::string& digest) const {
        const std::string hex = digest.substr(7);
        return dir_ / "storage/docker/registry/v2/blobs/sha256" / hex.substr(0, 2) / hex / "data";
    }
    void stop() { process_->stop(); }

private:
    std::filesystem::path dir_;
    std::string port_;
    std::unique_ptr<Spawned> process_;
};

// An OCI image layout (oci-layout, index.json, blobs/sha256/...) written by the test.
class OciLayout {
public:
    explicit OciLayout(std::filesystem::path dir) : dir_(std::filesystem::absolute(dir)) {
        std::filesystem::create_directories(dir_ / "blobs/sha256");
        std::ofstream(dir_ / "oci-layout") << R"({"imageLayoutVersion": "1.0.0"})";
        write_index();
    }

    const std::filesystem::path& dir() const { return dir_; }

    nlohmann::json blob(const std::string& data, const std::string& media_type) {
        const std::string hex = sha256_hex(data);
        std::ofstream(dir_ / "blobs/sha256" / hex, std::ios::binary) << data;
        return {{"mediaType", media_type},
                {"digest", "sha256:" + hex},
                {"size", static_cast<std::uint64_t>(data.size())}};
    }

    // A layer with these entries; its uncompressed digest goes into the image's diff_ids.
    nlohmann::json layer(const std::vector<TarEntry>& entries,
                         TarCompression compression = TarCompression::None) {
        const auto plain = dir_ / "layer.tmp";
        write_tarball(plain, entries);
        diff_ids_.push_back("sha256:" + sha256_file_hex(plain));
        std::string media_type = "application/vnd.oci.image.layer.v1.tar";
        if (compression != TarCompression::None) {
            write_tarball(plain, entries, compression);
            media_type += compression == TarCompression::Gzip ? "+gzip" : "+zstd";
        }
        auto descriptor = blob(read_file(plain), media_type);
        std::filesystem::remove(plain);
        return descriptor;
    }

    // An image manifest of `layers` (bottom first) and a configuration for `platform`; the
    // diff_ids are those of the layers made since the last image.
    nlohmann::json image(const std::vector<nlohmann::json>& layers, const OciPlatform& platform) {
        nlohmann::json config = {{"architecture", platform.architecture},
                                 {"os", platform.os},
                                 {"rootfs", {{"type", "layers"}, {"diff_ids", diff_ids_}}},
                                 {"config", nlohmann::json::object()}};
        if (!platform.variant.empty()) {
            config["variant"] = platform.variant;
        }
        diff_ids_.clear();
        nlohmann::json manifest = {
            {"schemaVersion", 2},
            {"mediaType", "application/vnd.oci.image.manifest.v1+json"},
            {"config", blob(config.dump(), "application/vnd.oci.image.config.v1+json")},
            {"layers", layers}};
        auto descriptor = blob(manifest.dump(), "application/vnd.oci.image.manifest.v1+json");
        descriptor["platform"] = {{"os", platform.os}, {"architecture", platform.architecture}};
        if (!platform.variant.empty()) {
            descriptor["platform"]["variant"] = platform.variant;
        }
        return descriptor;
    }

    // An image index of image manifests (with their platforms).
    nlohmann::json index(const std::vector<nlohmann::json>& manifests) {
        nlohmann::json document = {{"schemaVersion", 2},
                                   {"mediaType", "application/vnd.oci.image.index.v1+json"},
                                   {"manifests", manifests}};
        return blob(document.dump(), "application/vnd.oci.image.index.v1+json");
    }

    // Names `descriptor` `tag` in index.json, where skopeo's "oci:DIR:TAG" finds it.
    void tag(const std::string& tag, nlohmann::json descriptor) {
        descriptor.erase("platform");
        descriptor["annotations"] = {{"org.opencontainers.image.ref.name", tag}};
        tagged_.push_back(descriptor);
        write_index();
    }

private:
    void write_index() const {
        nlohmann::json index = {{"schemaVersion", 2}, {"manifests", tagged_}};
        std::ofstream(dir_ / "index.json") << index.dump();
    }

    std::filesystem::path dir_;
    std::vector<std::string> diff_ids_;
    std::vector<nlohmann::json> tagged_;
};

// Pushes `tag` of the layout to `destination` ("127.0.0.1:PORT/name:tag") with skopeo, every
// platform of an index included. `extra`: more skopeo copy options.
inline void push(const OciLayout& layout, const std::string& tag, const std::string& destination,
                 std::vector<std::string> extra = {}) {
    std::vector<std::string> argv = {"skopeo", "--insecure-policy",      "copy", "--quiet",
                                     "--all",  "--dest-tls-verify=false"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    argv.push_back("oci:" + layout.dir().string() + ":" + tag);
    argv.push_back("docker://" + destination);
    ProcessOptions options;
    options.log_file = layout.dir().parent_path() / "skopeo.log";
    int status = run_process(argv, options).exit_status;
    REQUIRE_MESSAGE(status == 0, "skopeo failed: " << read_file(*options.log_file));
}

} // namespace ksx::test

#include "fetch/registry_credentials.hpp"

#include "util/error.hpp"
#include "util/file_io.hpp"

#include <cstdlib>
#include <nlohmann/json.hpp>
#include <openssl/evp.h>

namespace fs = std::filesystem;

namespace ksx::fetch {

namespace {

// "https://registry.example.org/v1/" -> "registry.example.org".
std::string host_of_key(std::string key) {
    for (std::string_view scheme : {"https://", "http://"}) {
        if (key.starts_with(scheme)) {
            key.erase(0, scheme.size());
        }
    }
    return key.substr(0, key.find('/'));
}

bool is_docker_hub(const std::string& host) {
    return host == "docker.io" || host == "index.docker.io" || host == "registry-1.docker.io";
}

std::string base64_decode(const std::string& text, const fs::path& file) {
    std::string out((text.size() / 4 + 1) * 3, '\0');
    int size = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                               reinterpret_cast<const unsigned char*>(text.data()),
                               static_cast<int>(text.size()));
    if (size < 0 || text.size() % 4 != 0) {
        throw InputError(file.string() + ": an \"auth\" value is not base64");
    }
    // EVP_DecodeBlock counts the padding as data.
    size_t padding = text.ends_with("==") ? 2 : (text.ends_with('=') ? 1 : 0);
    out.resize(static_cast<size_t>(size) - padding);
    return out;
}

std::string string_field(const nlohmann::json& entry, const char* name) {
    auto it = entry.find(name);
    return it != entry.end() && it->is_string() ? it->get<std::string>() : std::string();
}

} // namespace

fs::path registry_auth_file(const fs::path& explicit_file) {
    if (!explicit_file.empty()) {
        return explicit_file;
    }
    if (const char* file = std::getenv("REGISTRY_AUTH_FILE"); file && *file) {
        return file; // named explicitly: used even if missing (which means "no credentials")
    }
    fs::path docker;
    if (const char* dir = std::getenv("DOCKER_CONFIG"); dir && *dir) {
        docker = fs::path(dir) / "config.json";
    } else if (const char* home = std::getenv("HOME"); home && *home) {
        docker = fs::path(home) / ".docker/config.json";
    }
    std::error_code ec;
    return !docker.empty() && fs::is_regular_file(docker, ec) ? docker : fs::path();
}

RegistryCredentials find_registry_credentials(const fs::path& file, const std::string& registry) {
    RegistryCredentials out;
    std::error_code ec;
    if (file.empty() || !fs::is_regular_file(file, ec)) {
        return out;
    }
    nlohmann::json config;
    try {
        config = nlohmann::json::parse(read_file(file));
    } catch (const nlohmann::json::exception& e) {
        throw InputError(file.string() + ": not a JSON auth file: " + e.what());
    }
    if (!config.is_object() || !config.contains("auths") || !config["auths"].is_object()) {
        return out;
    }
    for (const auto& [key, entry] : config["auths"].items()) {
        std::string host = host_of_key(key);
        bool same = host == registry || (is_docker_hub(host) && is_docker_hub(registry));
        if (!same || !entry.is_object()) {
            continue;
        }
        out.file = file;
        out.registry_token = string_field(entry, "registrytoken");
        if (auto auth = string_field(entry, "auth"); !auth.empty()) {
            std::string pair = base64_decode(auth, file);
            auto colon = pair.find(':');
            if (colon == std::string::npos) {
                throw InputError(file.string() + ": the \"auth\" of " + key +
                                 " is not base64 of \"user:password\"");
            }
            out.username = pair.substr(0, colon);
            out.password = pair.substr(colon + 1);
        } else {
            out.username = string_field(entry, "username");
            out.password = string_field(entry, "password");
        }
        if (!out.empty()) {
            return out;
        }
    }
    return {};
}

std::string basic_authorization(const RegistryCredentials& credentials) {
    std::string pair = credentials.username + ":" + credentials.password;
    std::string out(4 * ((pair.size() + 2) / 3) + 1, '\0');
    int size = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                               reinterpret_cast<const unsigned char*>(pair.data()),
                               static_cast<int>(pair.size()));
    out.resize(static_cast<size_t>(size));
    return out;
}

} // namespace ksx::fetch

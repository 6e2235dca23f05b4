// Registry credentials from a Docker-style auth file (`auths` of ~/.docker/config.json, or the
// file $REGISTRY_AUTH_FILE names, as podman and skopeo write it).
#pragma once

#include <filesystem>
#include <string>

namespace ksx::fetch {

struct RegistryCredentials {
    std::string username;
    std::string password;
    std::string registry_token; // a bearer token to send as it is ("registrytoken")
    std::filesystem::path file; // where they came from, for messages
    bool empty() const { return username.empty() && registry_token.empty(); }
};

// The auth file that applies: `explicit_file` when set, else $REGISTRY_AUTH_FILE, else
// $DOCKER_CONFIG/config.json, else ~/.docker/config.json; empty when none exists.
std::filesystem::path registry_auth_file(const std::filesystem::path& explicit_file = {});

// The `auths` entry for `registry` ("host[:port]"; Docker Hub under any of its names): `auth`
// (base64 "user:password"), `username` and `password`, or `registrytoken`. Empty when the
// file has none. A file that is not JSON throws InputError naming it.
RegistryCredentials find_registry_credentials(const std::filesystem::path& file,
                                              const std::string& registry);

// "user:password" as base64, for "Authorization: Basic".
std::string basic_authorization(const RegistryCredentials& credentials);

} // namespace ksx::fetch

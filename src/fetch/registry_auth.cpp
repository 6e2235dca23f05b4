#include "fetch/registry_auth.hpp"

#include "fetch/http_request.hpp"
#include "util/error.hpp"
#include "util/text.hpp"

#include <cctype>
#include <nlohmann/json.hpp>

namespace ksx::fetch {

std::optional<AuthChallenge> parse_challenge(std::string_view header) {
    size_t at = header.find_first_not_of(" \t");
    if (at == std::string_view::npos) {
        return std::nullopt;
    }
    size_t end = header.find_first_of(" \t", at);
    AuthChallenge challenge;
    challenge.scheme = ascii_lower(header.substr(at, end - at));
    at = end;
    // key=value or key="quoted value", separated by commas; a key without '=' starts the next
    // challenge.
    while (at != std::string_view::npos && at < header.size()) {
        at = header.find_first_not_of(" \t,", at);
        if (at == std::string_view::npos) {
            break;
        }
        size_t equals = header.find('=', at);
        size_t space = header.find_first_of(" \t,", at);
        if (equals == std::string_view::npos ||
            (space != std::string_view::npos && space < equals)) {
            break;
        }
        std::string key = ascii_lower(header.substr(at, equals - at));
        std::string value;
        at = equals + 1;
        if (at < header.size() && header[at] == '"') {
            for (++at; at < header.size() && header[at] != '"'; ++at) {
                if (header[at] == '\\' && at + 1 < header.size()) {
                    ++at;
                }
                value += header[at];
            }
            ++at;
        } else {
            size_t stop = header.find_first_of(" \t,", at);
            value = header.substr(at, stop == std::string_view::npos ? stop : stop - at);
            at = stop;
        }
        challenge.params[key] = value;
    }
    return challenge;
}

std::string url_escape(std::string_view text) {
    static constexpr char hex[] = "0123456789ABCDEF";
    std::string out;
    for (char c : text) {
        auto byte = static_cast<unsigned char>(c);
        if (std::isalnum(byte) || c == '-' || c == '.' || c == '_' || c == '~') {
            out += c;
        } else {
            out += '%';
            out += hex[byte >> 4];
            out += hex[byte & 15];
        }
    }
    return out;
}

RegistryAuth::RegistryAuth(std::string registry, std::string repository,
                           RegistryCredentials credentials, DownloadOptions options)
    : registry_(std::move(registry)), repository_(std::move(repository)),
      credentials_(std::move(credentials)), options_(std::move(options)) {}

std::string RegistryAuth::credentials_hint() const {
    if (!credentials_.file.empty()) {
        return "with the credentials for " + registry_ + " from " + credentials_.file.string();
    }
    return "anonymously (no credentials for " + registry_ +
           " in $REGISTRY_AUTH_FILE or ~/.docker/config.json)";
}

std::string RegistryAuth::token_from_server(const AuthChallenge& challenge) const {
    auto realm = challenge.params.find("realm");
    if (realm == challenge.params.end() ||
        !(realm->second.starts_with("https://") || realm->second.starts_with("http://"))) {
        throw Error(registry_ + ": the registry's bearer challenge names no http(s) token realm");
    }
    std::string url = realm->second + (realm->second.find('?') == std::string::npos ? "?" : "&");
    if (auto service = challenge.params.find("service"); service != challenge.params.end()) {
        url += "service=" + url_escape(service->second) + "&";
    }
    url += "scope=" + url_escape("repository:" + repository_ + ":pull");
    HttpRequest request{url, false, {}, 1 << 20};
    if (!credentials_.username.empty()) {
        request.headers.push_back("Authorization: Basic " + basic_authorization(credentials_));
    }
    auto options = options_;
    options.headers.clear();
    auto response = http_request(request, options);
    if (response.status != 200) {
        throw Error(registry_ + ": the token server " + realm->second + " refused " +
                    credentials_hint() + ": HTTP " + std::to_string(response.status));
    }
    auto body = nlohmann::json::parse(response.body, nullptr, false);
    for (const char* field : {"token", "access_token"}) {
        if (body.is_object() && body.contains(field) && (*body.find(field)).is_string() &&
            !(*body.find(field)).get<std::string>().empty()) {
            return (*body.find(field)).get<std::string>();
        }
    }
    throw Error(registry_ + ": the token server " + realm->second + " sent no token");
}

void RegistryAuth::answer(const AuthChallenge& challenge) {
    if (challenge.scheme == "bearer") {
        std::string token = credentials_.registry_token.empty() ? token_from_server(challenge)
                                                                : credentials_.registry_token;
        header_ = "Authorization: Bearer " + token;
        return;
    }
    if (challenge.scheme == "basic") {
        if (credentials_.username.empty()) {
            throw Error(registry_ + " asks for a user name and password: add an \"auths\" entry "
                                    "for it to $REGISTRY_AUTH_FILE or ~/.docker/config.json");
        }
        header_ = "Authorization: Basic " + basic_authorization(credentials_);
        return;
    }
    throw Error(registry_ + ": unsupported authentication scheme \"" + challenge.scheme + "\"");
}

} // namespace ksx::fetch

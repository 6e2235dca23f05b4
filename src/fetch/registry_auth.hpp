// Authorization for a registry: the `WWW-Authenticate` challenge of a 401 answered with an
// anonymous (or credentialed) bearer token from the registry's token server, or with Basic
// credentials, as Docker's distribution/registry/client/auth does.
#pragma once

#include "fetch/fetch.hpp"
#include "fetch/registry_credentials.hpp"

#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace ksx::fetch {

struct AuthChallenge {
    std::string scheme;                        // lower-case: "bearer", "basic"
    std::map<std::string, std::string> params; // keys lower-case: realm, service, scope
};

// The first challenge of a `WWW-Authenticate` value: `Bearer realm="...",service="..."`.
std::optional<AuthChallenge> parse_challenge(std::string_view header);

// "a%2Fb": every byte but RFC 3986's unreserved characters percent-encoded.
std::string url_escape(std::string_view text);

class RegistryAuth {
public:
    RegistryAuth(std::string registry, std::string repository, RegistryCredentials credentials,
                 DownloadOptions options);

    // Answers `challenge` (for pulling the repository). Throws Error when it cannot: a token
    // server that refuses, Basic auth without credentials, an unknown scheme.
    void answer(const AuthChallenge& challenge);
    // "Authorization: ..." once a challenge was answered, else "".
    const std::string& header() const { return header_; }

private:
    std::string token_from_server(const AuthChallenge& challenge) const;
    std::string credentials_hint() const;

    std::string registry_;
    std::string repository_;
    RegistryCredentials credentials_;
    DownloadOptions options_;
    std::string header_;
};

} // namespace ksx::fetch

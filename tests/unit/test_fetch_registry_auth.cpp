// Registry authorization: challenges, auth files, and bearer tokens from a token server in
// front of a real docker-registry.
#include "container/oci_container.hpp"
#include "fetch/registry_auth.hpp"
#include "fetch/registry_client.hpp"
#include "fetch/registry_credentials.hpp"
#include "registry_fixture.hpp"
#include "scoped_env.hpp"
#include "util/error.hpp"
#include "util/file_io.hpp"

#include <cstdlib>
#include <doctest/doctest.h>
#include <filesystem>
#include <fstream>
#include <string>

namespace fs = std::filesystem;
using namespace ksx::fetch;

namespace {

void write(const fs::path& path, const std::string& text) {
    std::ofstream(path) << text;
}

} // namespace

TEST_CASE("a WWW-Authenticate challenge gives its scheme and parameters") {
    auto bearer = parse_challenge(
        R"(Bearer realm="https://auth.example.org/token",service="registry.example.org",scope="repository:a/b:pull")");
    REQUIRE(bearer);
    CHECK(bearer->scheme == "bearer");
    CHECK(bearer->params.at("realm") == "https://auth.example.org/token");
    CHECK(bearer->params.at("service") == "registry.example.org");
    CHECK(bearer->params.at("scope") == "repository:a/b:pull");

    auto basic = parse_challenge(R"(Basic realm="Registry Realm", charset=UTF-8)");
    REQUIRE(basic);
    CHECK(basic->scheme == "basic");
    CHECK(basic->params.at("realm") == "Registry Realm");
    CHECK(basic->params.at("charset") == "UTF-8");

    auto escaped = parse_challenge(R"(Bearer realm="a\"b", error="insufficient_scope")");
    CHECK(escaped->params.at("realm") == "a\"b");
    CHECK(escaped->params.at("error") == "insufficient_scope");
    CHECK_FALSE(parse_challenge("  "));
    CHECK(url_escape("repository:a/b:pull") == "repository%3Aa%2Fb%3Apull");
}

TEST_CASE("credentials come from the auth file's entry for the registry") {
    write("config.json", R"({"auths": {
        "https://registry.example.org/v1/": {"auth": "dXNlcjpwYXNzOndvcmQ="},
        "other.example.org:5000": {"username": "me", "password": "secret"},
        "https://index.docker.io/v1/": {"auth": "aHViOmh1Yg=="},
        "tokens.example.org": {"registrytoken": "abc"}},
      "credsStore": "desktop"})");
    auto example = find_registry_credentials("config.json", "registry.example.org");
    CHECK(example.username == "user");
    CHECK(example.password == "pass:word");
    CHECK(example.file == "config.json");
    CHECK(basic_authorization(example) == "dXNlcjpwYXNzOndvcmQ=");
    CHECK(find_registry_credentials("config.json", "other.example.org:5000").password == "secret");
    CHECK(find_registry_credentials("config.json", "docker.io").username == "hub");
    CHECK(find_registry_credentials("config.json", "tokens.example.org").registry_token == "abc");
    CHECK(find_registry_credentials("config.json", "unknown.example.org").empty());
    CHECK(find_registry_credentials("missing.json", "registry.example.org").empty());

    write("broken.json", "{");
    CHECK_THROWS_AS(find_registry_credentials("broken.json", "x.org"), ksx::InputError);
    write("bad-auth.json", R"({"auths": {"x.org": {"auth": "bm9jb2xvbg=="}}})");
    CHECK_THROWS_WITH_AS(find_registry_credentials("bad-auth.json", "x.org"),
                         "bad-auth.json: the \"auth\" of x.org is not base64 of \"user:password\"",
                         ksx::InputError);
}

TEST_CASE("the auth file is $REGISTRY_AUTH_FILE, else the Docker configuration") {
    fs::create_directories("docker");
    write("docker/config.json", "{}");
    ScopedEnv docker("DOCKER_CONFIG", fs::absolute("docker").string());
    {
        ScopedEnv unset_file("REGISTRY_AUTH_FILE", "");
        CHECK(registry_auth_file() == fs::absolute("docker/config.json"));
    }
    ScopedEnv file("REGISTRY_AUTH_FILE", fs::absolute("auth.json").string());
    CHECK(registry_auth_file() == fs::absolute("auth.json"));
    CHECK(registry_auth_file("explicit.json") == "explicit.json");
}

TEST_CASE("a registry behind a token server is pulled with a token got with the auth file's "
          "credentials") {
    // The token server: tests/data/http_test_server.py, signing with a key made here.
    const fs::path key = fs::absolute("token-key.pem");
    const fs::path cert = fs::absolute("token-cert.pem");
    ksx::ProcessOptions quiet;
    quiet.log_file = fs::absolute("openssl.log");
    REQUIRE(ksx::run_process({"openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days",
                              "1", "-subj", "/CN=ksx-test-token", "-keyout", key.string(), "-out",
                              cert.string()},
                             quiet)
                .exit_status == 0);
    ScopedEnv token_key("KSX_TOKEN_KEY", key.string());
    ScopedEnv token_cert("KSX_TOKEN_CERT", cert.string());
    ScopedEnv token_user("KSX_TOKEN_USER", "ksx:s3cret");
    fs::create_directories("token-files");
    ksx::test::Spawned token_server({"python3", KSX_SOURCE_DIR "/tests/data/http_test_server.py",
                                     fs::absolute("token-files").string(),
                                     fs::absolute("token-requests.log").string()},
                                    fs::absolute("token-port"), false);
    std::string port;
    for (int i = 0; i < 400 && port.empty(); ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(25));
        auto text = ksx::read_file("token-port");
        if (text.ends_with('\n')) {
            port = text.substr(0, text.size() - 1);
        }
    }
    REQUIRE(!port.empty());
    const ksx::test::TokenAuth auth{"http://127.0.0.1:" + port + "/token", cert};
    ksx::test::LocalRegistry registry("registry", &auth);

    ksx::test::OciLayout layout("layout");
    layout.tag("v1", layout.image({layout.layer({ksx::test::file_entry("bin/sh", "sh", 0755),
                                                 ksx::test::file_entry("secret", "token")})},
                                  {"linux", "amd64", ""}));
    ksx::test::push(layout, "v1", registry.host() + "/private/dev:v1",
                    {"--dest-creds", "ksx:s3cret"});

    ksx::manifest::OciContainer oci{
        ksx::parse_image_reference(registry.host() + "/private/dev:v1").reference,
        {"linux", "amd64", ""},
        true};
    ksx::container::PrepareOptions options;
    options.cache_dir = fs::absolute("cache");

    // Anonymous: the token server refuses.
    {
        ScopedEnv no_file("REGISTRY_AUTH_FILE", fs::absolute("none.json").string());
        CHECK_THROWS_WITH_AS(ksx::container::oci_rootfs(oci, options),
                             (registry.host() + ": the token server " + auth.realm +
                              " refused anonymously (no credentials for " + registry.host() +
                              " in $REGISTRY_AUTH_FILE or ~/.docker/config.json): HTTP 401")
                                 .c_str(),
                             ksx::Error);
    }
    // With the credentials of an auth file.
    write("auth.json", R"({"auths": {")" + registry.host() +
                           R"(": {"auth": "a3N4OnMzY3JldA=="}}})"); // ksx:s3cret
    ScopedEnv file("REGISTRY_AUTH_FILE", fs::absolute("auth.json").string());
    auto image = ksx::container::oci_rootfs(oci, options);
    CHECK(ksx::read_file(image.root / "secret") == "token");
    const auto requests = ksx::read_file("token-requests.log");
    CHECK(requests.find(
              "/token?service=ksx-test-registry&scope=repository%3Aprivate%2Fdev%3Apull ksx\n") !=
          std::string::npos);
    CHECK(requests.find(
              "/token?service=ksx-test-registry&scope=repository%3Aprivate%2Fdev%3Apull -\n") !=
          std::string::npos);
}

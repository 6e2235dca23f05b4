#include "activator/trust_policy.hpp"

#include "activator/root_files.hpp"
#include "util/error.hpp"
#include "util/key_value.hpp"

#include <algorithm>
#include <cerrno>
#include <system_error>

namespace ksx::activator {

namespace fs = std::filesystem;

namespace {

// Certificate files (node paths) in one directory beneath the root, sorted; a missing
// directory has none.
std::vector<fs::path> certificate_files(const Context& context, const fs::path& dir,
                                        std::initializer_list<std::string_view> suffixes,
                                        Log& log) {
    std::vector<fs::path> files;
    std::error_code ec;
    auto names = list_beneath(context, dir, ec);
    if (ec == std::errc::no_such_file_or_directory) {
        return files;
    }
    if (ec) {
        log.error("cannot read {}: {}", {context.on_disk(dir).native(), ec.message()});
    }
    for (const auto& name : names) {
        bool wanted = name.front() != '.' &&
                      std::any_of(suffixes.begin(), suffixes.end(),
                                  [&](std::string_view suffix) { return name.ends_with(suffix); });
        if (wanted) {
            files.push_back(dir / name);
        }
    }
    return files;
}

} // namespace

SignaturePolicy parse_signature_policy(std::string_view text, const std::string& file_name,
                                       Log& log) {
    auto policy = SignaturePolicy::automatic;
    parse_key_values(text, file_name,
                     [&](std::string_view key, std::string_view value, const std::string& where) {
                         if (key != "SIGNATURES") {
                             log.info("{}ignoring unknown setting {}", {where, key});
                         } else if (value == "required") {
                             policy = SignaturePolicy::required;
                         } else if (value == "optional") {
                             policy = SignaturePolicy::optional;
                         } else if (value == "auto") {
                             policy = SignaturePolicy::automatic;
                         } else {
                             throw_input("{}SIGNATURES \"{}\" is not required, optional or auto",
                                         {where, value});
                         }
                     });
    return policy;
}

TrustPolicy read_trust_policy(const Context& context, Log& log) {
    TrustPolicy policy;
    auto file = context.on_disk(kPolicyFile);
    if (stat_beneath(context, kPolicyFile) || errno != ENOENT) {
        try {
            policy.configured = parse_signature_policy(
                read_beneath(context, kPolicyFile, kMaxSmallFile), file.native(), log);
        } catch (const std::exception& e) {
            log.error("{}; requiring signatures", {e.what()});
            policy.configured = SignaturePolicy::required;
        }
    }
    std::vector<fs::path> files = certificate_files(context, kSystemdCertificateDir, {".crt"}, log);
    for (auto& extra : certificate_files(context, "/etc/kmod-sysext/keys", {".crt", ".pem"}, log)) {
        files.push_back(std::move(extra));
    }
    for (const auto& node_path : files) {
        try {
            auto bytes = read_beneath(context, node_path, kMaxSmallFile);
            for (auto& certificate : parse_certificates(bytes, context.on_disk(node_path))) {
                policy.certificates.push_back(std::move(certificate));
            }
        } catch (const std::exception& e) {
            log.error("{}; not trusting it", {e.what()});
        }
    }
    policy.required = policy.configured == SignaturePolicy::required ||
                      (policy.configured == SignaturePolicy::automatic && !files.empty());
    return policy;
}

} // namespace ksx::activator

// `kmod-sysext keygen --out DIR`: a signing key and a self-signed certificate for module
// signatures and for verity root hash signatures.
#include "cli/commands.hpp"
#include "sign/keys.hpp"
#include "util/error.hpp"

#include <filesystem>
#include <fmt/core.h>
#include <memory>
#include <nlohmann/json.hpp>

namespace ksx::cli {

namespace {

struct KeygenArgs {
    std::string out;
    std::string common_name = "kmod-sysext signing key";
    std::string name = "kmod-sysext";
    std::string algorithm = "rsa";
    int days = 3650;
    bool force = false;
};

int run_keygen(const KeygenArgs& args, const GlobalOptions& global) {
    namespace fs = std::filesystem;
    sign::KeygenOptions options;
    options.out_dir = args.out;
    options.common_name = args.common_name;
    options.name = args.name;
    options.valid_days = args.days;
    options.algorithm =
        args.algorithm == "ecdsa" ? sign::KeyAlgorithm::EcdsaP256 : sign::KeyAlgorithm::Rsa4096;
    // A key is never replaced by accident: images signed with it would lose their signer.
    std::error_code ec;
    if (!args.force && fs::exists(options.out_dir / "key.pem", ec)) {
        throw InputError((options.out_dir / "key.pem").string() +
                         " already exists (use --force to replace it)");
    }
    auto result = sign::generate_keys(options);
    if (global.json) {
        nlohmann::json out{
            {"key", result.key.string()},           {"cert_pem", result.cert_pem.string()},
            {"cert_der", result.cert_der.string()}, {"crt", result.crt.string()},
            {"algorithm", args.algorithm},          {"fingerprint", result.fingerprint}};
        fmt::print("{}\n", out.dump(2));
    } else if (!global.quiet) {
        fmt::print("private key: {} (mode 0600; keep it off the nodes)\n", result.key.string());
        fmt::print("certificate: {} (PEM), {} (DER)\n", result.cert_pem.string(),
                   result.cert_der.string());
        fmt::print("for nodes:   {} (install as /etc/verity.d/{})\n", result.crt.string(),
                   result.crt.filename().string());
        fmt::print("sha256 fingerprint: {}\n", result.fingerprint);
    }
    return 0;
}

} // namespace

Command keygen_command() {
    return {
        "keygen", "Make a signing key and a self-signed certificate (modules and verity)",
        [](CLI::App& app, const GlobalOptions& global) -> std::function<int()> {
            auto args = std::make_shared<KeygenArgs>();
            app.add_option("--out", args->out, "Directory for the key and certificate")->required();
            app.add_option("--cn", args->common_name, "Certificate subject common name")
                ->capture_default_str();
            app.add_option("--name", args->name,
                           "File name of the <name>.crt copy for /etc/verity.d")
                ->capture_default_str()
                ->check([](const std::string& value) -> std::string {
                    bool ok = !value.empty() && value.find('/') == std::string::npos &&
                              value != "." && value != "..";
                    return ok ? "" : "must be a file name";
                });
            app.add_option("--algorithm", args->algorithm, "rsa (4096 bits) or ecdsa (P-256)")
                ->capture_default_str()
                ->check(CLI::IsMember({"rsa", "ecdsa"}));
            app.add_option("--days", args->days, "Validity in days")
                ->capture_default_str()
                ->check(CLI::Range(1, 36500));
            app.add_flag("--force", args->force, "Replace an existing key.pem");
            return [args, &global] { return run_keygen(*args, global); };
        }};
}

} // namespace ksx::cli

// `kmod-sysext enroll --cert CERT --out DIR`: what enrolling the signing certificate as a Machine
// Owner Key takes, so that a kernel under UEFI Secure Boot trusts the modules and the image
// signatures made with it: the DER certificate, a one-time password and its hash, the
// `mokutil --import` step, and Ignition and Butane configs that queue the import on first boot.
#include "cli/commands.hpp"
#include "ignition/emit.hpp"
#include "ignition/mok_enrolment.hpp"
#include "sign/keys.hpp"
#include "sign/mok_enrolment.hpp"
#include "util/atomic_file.hpp"
#include "util/error.hpp"
#include "util/file_io.hpp"

#include <filesystem>
#include <fmt/core.h>
#include <memory>
#include <nlohmann/json.hpp>

namespace ksx::cli {

namespace {

namespace fs = std::filesystem;

struct EnrollArgs {
    std::string cert;
    std::string out;
    std::string name = "kmod-sysext";
    std::string password_file;
    std::string variant = "flatcar";
    bool force = false;
};

// A password from a file (one line); MokManager and mokutil take 1 to 256 characters.
std::string read_password(const fs::path& file) {
    std::string text;
    try {
        text = read_file(file);
    } catch (const std::exception& e) {
        throw InputError(file.string() + ": " + e.what());
    }
    if (text.ends_with('\n')) {
        text.pop_back();
    }
    if (text.empty() || text.size() > 256 || text.find('\n') != std::string::npos) {
        throw InputError(file.string() + ": the password must be one line of 1 to 256 characters");
    }
    return text;
}

int run_enroll(const EnrollArgs& args, const GlobalOptions& global) {
    auto certificate = sign::load_certificate(args.cert);
    auto password =
        args.password_file.empty() ? sign::one_time_password() : read_password(args.password_file);
    auto mok = sign::mok_certificate(certificate.get());
    ignition::MokFiles files{args.name, mok.der, sign::mok_password_hash(password),
                             mok.sha1_fingerprint};

    const fs::path out = args.out;
    const fs::path der = out / (args.name + ".der");
    std::error_code ec;
    if (!args.force && fs::exists(der, ec)) {
        throw InputError(der.string() + " already exists (use --force to replace it)");
    }
    fs::create_directories(out, ec);
    if (ec) {
        throw Error("cannot create " + out.string() + ": " + ec.message());
    }
    ignition::NodeConfig config;
    ignition::add_mok_enrolment(config, files);
    auto variant = ignition::parse_variant(args.variant);
    // The password last: the other files are useless without it, and it is what a rerun replaces.
    write_file_atomic(der, mok.der);
    // No newline: the hash is exactly what mokutil decodes.
    write_file_atomic(out / (args.name + ".hash"), files.password_hash, 0600);
    write_file_atomic(out / "enroll.ign", ignition::to_ignition(config));
    write_file_atomic(out / "enroll.bu", ignition::to_butane(config, variant));
    write_file_atomic(out / "password", password + "\n", 0600);

    const std::string import =
        "mokutil --import " + der.filename().string() + " --hash-file " + args.name + ".hash";
    if (global.json) {
        nlohmann::json result{{"der", der.string()},
                              {"sha1_fingerprint", mok.sha1_fingerprint},
                              {"password_file", (out / "password").string()},
                              {"password_hash", (out / (args.name + ".hash")).string()},
                              {"ignition", (out / "enroll.ign").string()},
                              {"butane", (out / "enroll.bu").string()},
                              {"import", import}};
        fmt::print("{}\n", result.dump(2));
    } else if (!global.quiet) {
        fmt::print("certificate: {} (DER, SHA-1 {})\n", der.string(), mok.sha1_fingerprint);
        fmt::print("one-time password: {} (also in {}, mode 0600)\n", password,
                   (out / "password").string());
        fmt::print("on the node, as root, from {}:\n  {}\n", out.string(), import);
        fmt::print("or on first boot: {} (Ignition) or {} (Butane), or kmod-sysext ignition "
                   "--enroll-mok {}\n",
                   (out / "enroll.ign").string(), (out / "enroll.bu").string(), out.string());
        fmt::print("then reboot: MokManager (shim) asks once, at the console: Enroll MOK, "
                   "Continue, Yes, the password, Reboot\n");
    }
    return 0;
}

} // namespace

Command enroll_command() {
    return {"enroll",
            "Write what enrolling the signing certificate as a Machine Owner Key takes (Secure "
            "Boot)",
            [](CLI::App& app, const GlobalOptions& global) -> std::function<int()> {
                auto args = std::make_shared<EnrollArgs>();
                app.add_option("--cert", args->cert, "The signing certificate (PEM or DER)")
                    ->required();
                app.add_option("--out", args->out, "Directory for the files")->required();
                app.add_option("--name", args->name, "File name of <name>.der and <name>.hash")
                    ->capture_default_str()
                    ->check([](const std::string& value) -> std::string {
                        bool ok = !value.empty() && value.find('/') == std::string::npos &&
                                  value != "." && value != "..";
                        return ok ? "" : "must be a file name";
                    });
                app.add_option("--password-file", args->password_file,
                               "The MokManager password (one line), instead of a new one");
                app.add_option("--variant", args->variant, "Butane variant: flatcar or fcos")
                    ->capture_default_str()
                    ->check(CLI::IsMember({"flatcar", "fcos"}));
                app.add_flag("--force", args->force, "Replace earlier files in --out");
                return [args, &global] { return run_enroll(*args, global); };
            }};
}

} // namespace ksx::cli

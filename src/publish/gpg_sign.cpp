#include "publish/gpg_sign.hpp"

#include "util/error.hpp"
#include "util/process.hpp"

namespace ksx::publish {

namespace {

std::vector<std::string> gpg_command(const std::filesystem::path& homedir) {
    std::vector<std::string> argv{"gpg", "--batch", "--yes", "--no-tty"};
    if (!homedir.empty()) {
        argv.insert(argv.end(), {"--homedir", homedir.string()});
    }
    return argv;
}

} // namespace

void gpg_detach_sign(const std::filesystem::path& file, const std::filesystem::path& signature,
                     const std::string& key, const std::filesystem::path& homedir) {
    auto argv = gpg_command(homedir);
    argv.insert(argv.end(), {"--local-user", key, "--detach-sign", "--output", signature.string(),
                             file.string()});
    auto result = run_process(argv);
    if (result.exit_status != 0) {
        throw Error("gpg could not sign " + file.string() + " with key " + key + " (" +
                    quote_command(argv) + " exited with " + std::to_string(result.exit_status) +
                    ")");
    }
}

std::string gpg_public_keyring(const std::string& key, const std::filesystem::path& homedir) {
    auto argv = gpg_command(homedir);
    argv.insert(argv.end(), {"--export", key});
    auto result = run_capture(argv);
    if (result.exit_status != 0 || result.output.empty()) {
        throw Error("gpg could not export the public key " + key + " (" + quote_command(argv) +
                    " exited with " + std::to_string(result.exit_status) + ")");
    }
    return result.output;
}

} // namespace ksx::publish

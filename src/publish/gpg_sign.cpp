#include "publish/gpg_sign.hpp"

#include "util/error.hpp"
#include "util/process.hpp"

namespace ksx::publish {

void gpg_detach_sign(const std::filesystem::path& file, const std::filesystem::path& signature,
                     const std::string& key, const std::filesystem::path& homedir) {
    std::vector<std::string> argv{"gpg", "--batch", "--yes", "--no-tty"};
    if (!homedir.empty()) {
        argv.insert(argv.end(), {"--homedir", homedir.string()});
    }
    argv.insert(argv.end(), {"--local-user", key, "--detach-sign", "--output", signature.string(),
                             file.string()});
    auto result = run_process(argv);
    if (result.exit_status != 0) {
        throw Error("gpg could not sign " + file.string() + " with key " + key + " (" +
                    quote_command(argv) + " exited with " + std::to_string(result.exit_status) +
                    ")");
    }
}

} // namespace ksx::publish

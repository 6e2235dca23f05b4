#include "build/kernel_failure.hpp"

namespace ksx::build {

std::string describe(const KernelFailure& failure) {
    std::string text = "kernel " + failure.kernel;
    if (!failure.target.empty()) {
        text += " (target " + failure.target + ")";
    }
    text += ": " + failure.message;
    if (!failure.log.empty()) {
        text += "; see " + failure.log.string();
    }
    return text;
}

KernelFailure kernel_failure(const std::exception& error, const std::string& kernel,
                             const std::string& target, const std::filesystem::path& log) {
    const auto* logged = dynamic_cast<const FailureLog*>(&error);
    return {kernel, target, logged != nullptr ? logged->log() : log, error.what(),
            dynamic_cast<const InputError*>(&error) != nullptr};
}

} // namespace ksx::build

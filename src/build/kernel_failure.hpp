// Why a kernel has no image, as a value: its build (or its packing) failed. Carried from the
// build to `pack` and the CLI, which prints it; never a string to parse back.
#pragma once

#include "util/error.hpp"

#include <filesystem>
#include <string>
#include <utility>

namespace ksx::build {

struct KernelFailure {
    std::string kernel;        // the kernel release
    std::string target;        // the manifest's target with `targets:`, else ""
    std::filesystem::path log; // the log holding the details; empty: none
    std::string message;       // what failed, without the kernel and the log
    bool input = false;        // the manifest's or its inputs' fault (exit status 2)
};

// "kernel K: MESSAGE; see LOG", with " (target T)" after K when there is a target and without
// "; see LOG" when there is no log.
std::string describe(const KernelFailure& failure);

// The log that holds a failure's details, carried beside its message rather than inside it: a
// step whose commands were logged throws one of the two below.
class FailureLog {
public:
    explicit FailureLog(std::filesystem::path log) : log_(std::move(log)) {}
    virtual ~FailureLog() = default;
    const std::filesystem::path& log() const { return log_; }

private:
    std::filesystem::path log_;
};

// A failure of a logged step (exit status 1).
class LoggedError : public Error, public FailureLog {
public:
    LoggedError(const std::string& message, std::filesystem::path log)
        : Error(message), FailureLog(std::move(log)) {}
};

// A logged step that failed because of the manifest or its inputs (exit status 2).
class LoggedInputError : public InputError, public FailureLog {
public:
    LoggedInputError(const std::string& message, std::filesystem::path log)
        : InputError(message), FailureLog(std::move(log)) {}
};

// `error` as kernel `kernel`'s failure: its log the one it carries, else `log`.
KernelFailure kernel_failure(const std::exception& error, const std::string& kernel,
                             const std::string& target, const std::filesystem::path& log);

} // namespace ksx::build

#include "util/process.hpp"

#include "util/error.hpp"
#include "util/unique_fd.hpp"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>

extern char** environ;

namespace ksx {

namespace {

class SpawnActions {
public:
    SpawnActions() { posix_spawn_file_actions_init(&actions_); }
    ~SpawnActions() { posix_spawn_file_actions_destroy(&actions_); }
    SpawnActions(const SpawnActions&) = delete;
    SpawnActions& operator=(const SpawnActions&) = delete;
    posix_spawn_file_actions_t* get() { return &actions_; }

private:
    posix_spawn_file_actions_t actions_;
};

std::vector<std::string> build_environment(const ProcessOptions& options) {
    std::vector<std::string> env;
    if (!options.clear_env) {
        for (char** e = environ; *e; ++e) {
            std::string entry = *e;
            auto name = entry.substr(0, entry.find('=') + 1);
            bool overridden = false;
            for (const auto& extra : options.env) {
                overridden = overridden || extra.starts_with(name);
            }
            if (!overridden) {
                env.push_back(std::move(entry));
            }
        }
    }
    env.insert(env.end(), options.env.begin(), options.env.end());
    return env;
}

ProcessResult spawn_and_wait(const std::vector<std::string>& argv, const ProcessOptions& options,
                             bool capture) {
    if (argv.empty()) {
        throw_error("internal error: empty command", {});
    }
    SpawnActions actions;
    UniqueFd log;
    if (options.log_file) {
        log.reset(
            ::open(options.log_file->c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644));
        if (!log) {
            throw_errno("failed to open log file {}", {options.log_file->string()});
        }
        posix_spawn_file_actions_adddup2(actions.get(), log.get(), STDERR_FILENO);
        if (!capture && !options.stdout_fd) {
            posix_spawn_file_actions_adddup2(actions.get(), log.get(), STDOUT_FILENO);
        }
    }
    if (options.stdout_fd && !capture) {
        posix_spawn_file_actions_adddup2(actions.get(), *options.stdout_fd, STDOUT_FILENO);
    }
    UniqueFd read_end;
    UniqueFd write_end;
    if (capture) {
        int fds[2];
        if (::pipe2(fds, O_CLOEXEC) != 0) {
            throw_errno("failed to create a pipe");
        }
        read_end.reset(fds[0]);
        write_end.reset(fds[1]);
        posix_spawn_file_actions_adddup2(actions.get(), write_end.get(), STDOUT_FILENO);
    }
    posix_spawn_file_actions_addopen(actions.get(), STDIN_FILENO, "/dev/null", O_RDONLY, 0);

    std::vector<char*> args;
    for (const auto& a : argv) {
        args.push_back(const_cast<char*>(a.c_str()));
    }
    args.push_back(nullptr);
    auto env_strings = build_environment(options);
    std::vector<char*> envp;
    for (auto& e : env_strings) {
        envp.push_back(e.data());
    }
    envp.push_back(nullptr);

    pid_t pid = 0;
    int rc = ::posix_spawnp(&pid, args[0], actions.get(), nullptr, args.data(), envp.data());
    if (rc != 0) {
        throw_error("{}", {errno_message("failed to run {}", {argv[0]}, rc)});
    }
    write_end.reset();
    ProcessResult result;
    if (capture) {
        char buffer[8192];
        for (;;) {
            ssize_t n = ::read(read_end.get(), buffer, sizeof buffer);
            if (n < 0 && errno == EINTR) {
                continue;
            }
            if (n <= 0) {
                break;
            }
            result.output.append(buffer, static_cast<size_t>(n));
        }
    }
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR) {
            throw_errno("failed to wait for {}", {argv[0]});
        }
    }
    if (WIFEXITED(status)) {
        result.exit_status = WEXITSTATUS(status);
    } else if (WIFSIGNALED(status)) {
        result.exit_status = 128 + WTERMSIG(status);
    }
    return result;
}

} // namespace

ProcessResult run_process(const std::vector<std::string>& argv, const ProcessOptions& options) {
    return spawn_and_wait(argv, options, false);
}

ProcessResult run_capture(const std::vector<std::string>& argv, const ProcessOptions& options) {
    return spawn_and_wait(argv, options, true);
}

std::string quote_command(const std::vector<std::string>& argv) {
    std::string out;
    for (const auto& a : argv) {
        if (!out.empty()) {
            out += ' ';
        }
        bool plain =
            !a.empty() && a.find_first_of(" \t\n'\"\\$`;&|<>*?()[]{}") == std::string::npos;
        if (plain) {
            out += a;
        } else {
            out += '\'';
            for (char c : a) {
                if (c == '\'') {
                    out += "'\\''";
                } else {
                    out += c;
                }
            }
            out += '\'';
        }
    }
    return out;
}

} // namespace ksx

#include "activator/log.hpp"

#include "activator/printable.hpp"

#include <cstdio>
#include <cstdlib>
#include <sys/stat.h>
#include <unistd.h>

namespace ksx::activator {

namespace {

// systemd sets JOURNAL_STREAM=<dev>:<inode> for the stream it connected; children inherit the
// variable, so compare it with what stderr really is before speaking the journal's protocol.
bool stderr_is_journal() {
    const char* stream = std::getenv("JOURNAL_STREAM");
    if (stream == nullptr) {
        return false;
    }
    unsigned long long dev = 0;
    unsigned long long ino = 0;
    if (std::sscanf(stream, "%llu:%llu", &dev, &ino) != 2) {
        return false;
    }
    struct stat st {};
    return ::fstat(STDERR_FILENO, &st) == 0 && st.st_dev == dev && st.st_ino == ino;
}

} // namespace

Log::Log() : journal_(stderr_is_journal()) {}

Log::Log(Sink sink) : sink_(std::move(sink)) {}

void Log::info(const std::string& message) {
    write(6, message);
}

void Log::warning(const std::string& message) {
    write(4, message);
}

void Log::error(const std::string& message) {
    if (!failed_) {
        first_error_ = message;
    }
    failed_ = true;
    write(3, message);
}

void Log::info(const char* pattern, MessageParts parts) {
    info(message(pattern, parts));
}

void Log::warning(const char* pattern, MessageParts parts) {
    warning(message(pattern, parts));
}

void Log::error(const char* pattern, MessageParts parts) {
    error(message(pattern, parts));
}

void Log::write(int priority, const std::string& message) {
    // Names and values from the node's files may hold anything: one event stays one line.
    std::string line = ksx::message("kmod-sysext-activate: {}\n", {printable(message)});
    if (sink_) {
        sink_(line);
        return;
    }
    if (journal_) {
        line = ksx::message("<{}>{}", {std::to_string(priority), line});
    }
    // One write per line, so lines from parallel runs (udev's modprobe calls) do not mix.
    std::fflush(stderr);
    [[maybe_unused]] auto written = ::write(STDERR_FILENO, line.data(), line.size());
}

} // namespace ksx::activator

// One line per event, "kmod-sysext-activate: ..." on stderr (the journal under systemd), with
// control characters and backslashes escaped (printable.hpp).
#pragma once

#include "util/message.hpp"

#include <functional>
#include <string>

namespace ksx::activator {

class Log {
public:
    using Sink = std::function<void(const std::string& line)>;
    // Writes to stderr; when stderr is the journal, lines carry a syslog priority prefix.
    Log();
    // Hands every line (prefix included) to `sink`; for tests.
    explicit Log(Sink sink);

    // Each also takes a pattern and its parts, joined here rather than at every call site
    // (message() in util/message.hpp).
    void info(const std::string& message);
    void info(const char* pattern, MessageParts parts);
    // Something refused on purpose (an image that fails its checks): not a failure of the run.
    void warning(const std::string& message);
    void warning(const char* pattern, MessageParts parts);
    // Logs and remembers that the run failed ("keep going, remember the first error").
    void error(const std::string& message);
    void error(const char* pattern, MessageParts parts);
    bool failed() const { return failed_; }
    const std::string& first_error() const { return first_error_; }

private:
    void write(int priority, const std::string& message);
    Sink sink_;
    bool journal_ = false;
    bool failed_ = false;
    std::string first_error_;
};

} // namespace ksx::activator

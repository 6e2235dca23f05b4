// What runs the build's commands in the developer container. The build takes one, so that a
// test can hand it a fake that records what each command would see and answers with an exit
// status of its choosing (ninja's CommandRunner and FakeCommandRunner are the model).
#pragma once

#include "container/container.hpp"

namespace ksx::build {

class CommandRunner {
public:
    virtual ~CommandRunner() = default;
    // Runs `spec` in `rootfs` and returns its exit status, as container::run() does.
    virtual int run(const container::Rootfs& rootfs, const container::RunSpec& spec) = 0;
};

// The real runner: container::run(), bubblewrap with the container's root read-only.
CommandRunner& container_runner();

} // namespace ksx::build

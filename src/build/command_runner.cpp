#include "build/command_runner.hpp"

namespace ksx::build {

namespace {

class ContainerRunner final : public CommandRunner {
public:
    int run(const container::Rootfs& rootfs, const container::RunSpec& spec) override {
        return container::run(rootfs, spec);
    }
};

} // namespace

CommandRunner& container_runner() {
    static ContainerRunner runner;
    return runner;
}

} // namespace ksx::build

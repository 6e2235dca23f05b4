// kmod-sysext-activate: the node side of kmod-sysext (see command_line.hpp).
#include "activator/command_line.hpp"

int main(int argc, char** argv) {
    return ksx::activator::run(argc, argv);
}

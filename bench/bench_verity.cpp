// ksx-bench-verity DATA HASH_FILE SALT_HEX [--threads N]: writes the dm-verity hash tree of
// DATA with kmod-sysext's implementation (the UUID derived from the salt, as `build` does) and
// prints the root hash, the UUID and the seconds the tree took.
#include "sign/verity.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>
#include <thread>

int main(int argc, char** argv) {
    if (argc != 4 && !(argc == 6 && std::string(argv[4]) == "--threads")) {
        std::fprintf(stderr, "usage: %s DATA HASH_FILE SALT_HEX [--threads N]\n", argv[0]);
        return 2;
    }
    try {
        ksx::sign::VerityParams params;
        params.salt = ksx::sign::salt_from_hex(argv[3]);
        params.uuid = ksx::sign::uuid_from_salt(params.salt);
        params.threads = argc == 6 ? static_cast<unsigned>(std::atoi(argv[5]))
                                   : std::max(1u, std::thread::hardware_concurrency());
        auto start = std::chrono::steady_clock::now();
        auto root = ksx::sign::write_verity(argv[1], argv[2], params);
        std::chrono::duration<double> took = std::chrono::steady_clock::now() - start;
        std::printf("root %s\nuuid %s\nseconds %.3f\n", root.c_str(),
                    ksx::sign::format_uuid(params.uuid).c_str(), took.count());
    } catch (const std::exception& e) {
        std::fprintf(stderr, "ksx-bench-verity: %s\n", e.what());
        return 1;
    }
    return 0;
}

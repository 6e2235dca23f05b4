// ksx-bench-pack SRC_DIR OUT.raw [--level N] [--threads N] [--mtime N]
// Packs a host directory with the image writer (Tree::add_host_tree + write_squashfs), zstd.
#include "image/squashfs_writer.hpp"
#include "util/error.hpp"

#include <cstdlib>
#include <exception>
#include <iostream>
#include <string>

namespace {

int usage() {
    std::cerr << "usage: ksx-bench-pack SRC_DIR OUT.raw [--level N] [--threads N] [--mtime N]\n";
    return 2;
}

} // namespace

int main(int argc, char** argv) {
    if (argc < 3) {
        return usage();
    }
    ksx::image::WriteOptions options;
    options.threads = 2;
    try {
        for (int i = 3; i < argc; ++i) {
            std::string arg = argv[i];
            if (i + 1 >= argc) {
                return usage();
            }
            unsigned long value = std::stoul(argv[++i]);
            if (arg == "--level") {
                options.level = static_cast<int>(value);
            } else if (arg == "--threads") {
                options.threads = static_cast<unsigned>(value);
            } else if (arg == "--mtime") {
                options.mtime = static_cast<std::uint32_t>(value);
            } else {
                return usage();
            }
        }
        ksx::image::Tree tree;
        tree.add_host_tree("", argv[1]);
        ksx::image::write_squashfs(tree, argv[2], options);
    } catch (const ksx::InputError& e) {
        std::cerr << "ksx-bench-pack: " << e.what() << "\n";
        return 2;
    } catch (const std::exception& e) {
        std::cerr << "ksx-bench-pack: " << e.what() << "\n";
        return 1;
    }
    return 0;
}

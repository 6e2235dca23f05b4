// doctest main for the unit tests. Each run gets a fresh temp dir as working directory,
// removed afterwards unless a test failed (then its path is printed to look at).
#define DOCTEST_CONFIG_IMPLEMENT
#include <cstdlib>
#include <doctest/doctest.h>
#include <filesystem>
#include <iostream>
#include <string>
#include <unistd.h>

int main(int argc, char** argv) {
    std::string pattern = (std::filesystem::temp_directory_path() / "ksx-unit-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) {
        std::cerr << "cannot create a temp dir\n";
        return 1;
    }
    std::filesystem::current_path(pattern);
    doctest::Context context(argc, argv);
    int result = context.run();
    std::filesystem::current_path("/");
    if (result == 0) {
        std::filesystem::remove_all(pattern);
    } else {
        std::cerr << "test files kept in " << pattern << "\n";
    }
    return result;
}

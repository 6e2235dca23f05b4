// For builds without libFuzzer (gcc, the sanitizer build in CI): runs a harness once over each
// file given, or each file of each directory given, as libFuzzer would with -runs=0. A crash,
// a sanitizer report or an escaped exception fails the run.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <stdexcept>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);

namespace {

void run(const std::filesystem::path& file) {
    std::ifstream in(file, std::ios::binary);
    if (!in) {
        throw std::runtime_error(file.string() + ": cannot open");
    }
    std::vector<char> bytes{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
    LLVMFuzzerTestOneInput(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size());
}

} // namespace

int main(int argc, char** argv) {
    std::size_t count = 0;
    try {
        for (int i = 1; i < argc; ++i) {
            std::filesystem::path arg(argv[i]);
            if (std::filesystem::is_directory(arg)) {
                std::vector<std::filesystem::path> files;
                for (const auto& entry : std::filesystem::directory_iterator(arg)) {
                    files.push_back(entry.path());
                }
                std::sort(files.begin(), files.end());
                for (const auto& file : files) {
                    run(file);
                    ++count;
                }
            } else {
                run(arg);
                ++count;
            }
        }
    } catch (const std::exception& e) {
        std::cerr << argv[0] << ": " << e.what() << "\n";
        return 1;
    }
    if (count == 0) {
        std::cerr << argv[0] << ": no input\n";
        return 1;
    }
    std::cout << argv[0] << ": ran " << count << " inputs\n";
    return 0;
}

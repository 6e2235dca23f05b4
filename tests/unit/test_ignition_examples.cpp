// The example configs in ignition/: every *.ign passes ignition-validate, and every
// <stem>-<variant>.bu is Butane of that variant that stands for <stem>.ign exactly.
#include "butane_fixture.hpp"
#include "util/file_io.hpp"
#include "util/process.hpp"

#include <algorithm>
#include <doctest/doctest.h>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>
#include <yaml-cpp/yaml.h>

namespace fs = std::filesystem;

namespace {

const fs::path examples = fs::path(KSX_SOURCE_DIR) / "ignition";

// The files in ignition/ whose name ends with `extension`, sorted; at least `least` of them.
std::vector<fs::path> example_files(const std::string& extension, std::size_t least) {
    std::vector<fs::path> found;
    for (const auto& entry : fs::directory_iterator(examples)) {
        if (entry.path().extension() == extension) {
            found.push_back(entry.path());
        }
    }
    std::sort(found.begin(), found.end());
    CHECK(found.size() >= least);
    return found;
}

} // namespace

TEST_CASE("every example Ignition config passes ignition-validate and installs a certificate") {
    for (const auto& path : example_files(".ign", 1)) {
        INFO(path.string());
        CHECK(ksx::run_process({"ignition-validate", path.string()}).exit_status == 0);
        // ignition/README.md: the examples were made with --cert.
        auto json = nlohmann::json::parse(ksx::read_file(path));
        bool certificate = false;
        for (const auto& f : json["storage"]["files"]) {
            certificate = certificate || f["path"].get<std::string>().starts_with("/etc/verity.d/");
        }
        CHECK(certificate);
    }
}

TEST_CASE("every example Butane config parses and says what its Ignition config says") {
    for (const auto& path : example_files(".bu", 2)) {
        INFO(path.string());
        auto stem = path.stem().string(); // "hello-flatcar"
        auto dash = stem.rfind('-');
        REQUIRE(dash != std::string::npos);
        auto variant = stem.substr(dash + 1);
        auto ignition = examples / (stem.substr(0, dash) + ".ign");
        REQUIRE(fs::exists(ignition));
        auto butane = YAML::LoadFile(path.string());
        REQUIRE((variant == "flatcar" || variant == "fcos"));
        CHECK(butane["variant"].as<std::string>() == variant);
        CHECK(butane["version"].as<std::string>() == (variant == "flatcar" ? "1.0.0" : "1.4.0"));
        CHECK(ksx::test::butane_to_ignition(butane) ==
              nlohmann::json::parse(ksx::read_file(ignition)));
    }
}

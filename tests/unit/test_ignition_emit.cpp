// Node configs as Ignition 3.3.0 JSON and Butane: exact shapes, ignition-validate, and the
// Butane text read back (yaml-cpp) saying the same as the JSON.
#include "butane_fixture.hpp"
#include "ignition/emit.hpp"
#include "ignition/node_config.hpp"
#include "util/error.hpp"
#include "util/file_io.hpp"
#include "util/process.hpp"

#include <algorithm>
#include <doctest/doctest.h>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <yaml-cpp/yaml.h>

namespace fs = std::filesystem;
using ksx::ignition::NodeConfig;
using ksx::test::butane_to_ignition;
using ksx::test::octal_mode;

namespace {

// index.json as `publish` writes it, for one signed image.
fs::path sample_release() {
    fs::remove_all("release");
    fs::create_directories("release");
    std::ofstream("release/index.json") << R"({
  "format": 1,
  "images": [
    {"file": "demo_2.0_6.1.0-56-amd64.raw", "name": "demo", "version": "2.0",
     "kernel": "6.1.0-56-amd64", "root_hash": ")" +
                                               std::string(64, 'd') + R"(",
     "signer": "CN=demo", "sha256": ")" + std::string(64, 'a') +
                                               R"(",
     "sidecars": [{"file": "demo_2.0_6.1.0-56-amd64.roothash", "sha256": ")" +
                                               std::string(64, 'b') + R"("}]}
  ],
  "activator": {"file": "kmod-sysext-activate", "sha256": ")" +
                                               std::string(64, 'c') + R"("}
})";
    return fs::absolute("release");
}

ksx::ignition::NodeOptions sample_options() {
    ksx::ignition::NodeOptions options;
    options.base_url = "http://127.0.0.1:8080/rel";
    options.certificate_pem = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";
    return options;
}

NodeConfig from_release(const fs::path& release, const ksx::ignition::NodeOptions& options) {
    std::vector<std::string> warnings;
    auto config = ksx::ignition::node_config_from_release(release, options, warnings);
    CHECK(warnings.empty());
    return config;
}

NodeConfig sample_config() {
    return from_release(sample_release(), sample_options());
}

} // namespace

TEST_CASE("inline contents become percent-encoded data URLs") {
    CHECK(ksx::ignition::data_url("a b/c=\n") == "data:,a%20b%2Fc%3D%0A");
    CHECK(ksx::ignition::data_url("") == "data:,");
}

TEST_CASE("a release's images, sidecars and activator are fetched with their sha256") {
    auto config = sample_config();
    CHECK(config.directories == std::vector<std::string>{"/opt/bin", "/var/lib/kmod-sysext/demo"});
    REQUIRE(config.files.size() == 4);
    CHECK(config.files[0].path == "/opt/bin/kmod-sysext-activate");
    CHECK(config.files[0].mode == 0755);
    CHECK(config.files[0].source == "http://127.0.0.1:8080/rel/kmod-sysext-activate");
    CHECK(config.files[0].sha256 == std::string(64, 'c'));
    CHECK(config.files[1].path == "/etc/verity.d/demo.crt");
    CHECK(config.files[1].source.empty());
    CHECK(config.files[2].path == "/var/lib/kmod-sysext/demo/demo_2.0_6.1.0-56-amd64.raw");
    CHECK(config.files[2].source == "http://127.0.0.1:8080/rel/demo_2.0_6.1.0-56-amd64.raw");
    CHECK(config.files[2].sha256 == std::string(64, 'a'));
    CHECK(config.files[3].path == "/var/lib/kmod-sysext/demo/demo_2.0_6.1.0-56-amd64.roothash");
    REQUIRE(config.units.size() == 2);
    CHECK(config.units[0].name == "kmod-sysext-select.service");
    CHECK(config.units[0].contents.find("ExecStart=/opt/bin/kmod-sysext-activate select\n") !=
          std::string::npos);
    CHECK(config.units[1].contents.find("ExecStart=/opt/bin/kmod-sysext-activate load\n") !=
          std::string::npos);
    CHECK(config.units[1].contents.find('@') == std::string::npos);
}

TEST_CASE("the Ignition JSON has the 3.3.0 shape and passes ignition-validate") {
    auto text = ksx::ignition::to_ignition(sample_config());
    auto json = nlohmann::json::parse(text);
    CHECK(json["ignition"]["version"] == "3.3.0");
    CHECK(json["storage"]["files"][0].dump() ==
          R"({"contents":{"source":"http://127.0.0.1:8080/rel/kmod-sysext-activate",)"
          R"("verification":{"hash":"sha256-)" +
              std::string(64, 'c') + R"("}},"mode":493,"path":"/opt/bin/kmod-sysext-activate"})");
    CHECK(json["storage"]["files"][1]["contents"]["source"] ==
          "data:,-----BEGIN%20CERTIFICATE-----%0AAAAA%0A-----END%20CERTIFICATE-----%0A");
    CHECK(json["systemd"]["units"][0]["enabled"] == true);
    std::ofstream("node.ign") << text;
    CHECK(ksx::run_process({"ignition-validate", "node.ign"}).exit_status == 0);
}

TEST_CASE("ignition-validate catches a config that is not valid") {
    auto text = ksx::ignition::to_ignition(sample_config());
    text.replace(text.find("sha256-"), 7, "sha999-");
    std::ofstream("broken.ign") << text;
    ksx::ProcessOptions quiet;
    quiet.log_file = fs::absolute("validate.log");
    CHECK(ksx::run_process({"ignition-validate", "broken.ign"}, quiet).exit_status != 0);
}

TEST_CASE("the Butane config says what the Ignition JSON says, for both variants") {
    auto config = sample_config();
    auto ignition = nlohmann::json::parse(ksx::ignition::to_ignition(config));
    for (auto variant : {ksx::ignition::Variant::Flatcar, ksx::ignition::Variant::Fcos}) {
        auto butane = YAML::Load(ksx::ignition::to_butane(config, variant));
        bool flatcar = variant == ksx::ignition::Variant::Flatcar;
        CHECK(butane["variant"].as<std::string>() == (flatcar ? "flatcar" : "fcos"));
        CHECK(butane["version"].as<std::string>() == (flatcar ? "1.0.0" : "1.4.0"));
        CHECK(butane_to_ignition(butane) == ignition);
    }
}

TEST_CASE("Butane blocks keep text without a final newline exactly") {
    NodeConfig config;
    config.files.push_back({"/etc/a", 0600, "", "", "no newline"});
    config.files.push_back({"/etc/b", 0644, "", "", "two\n\n"});
    config.files.push_back({"/etc/c", 0644, "", "", " leading blank\n"});
    auto butane = YAML::Load(ksx::ignition::to_butane(config, ksx::ignition::Variant::Fcos));
    CHECK(butane["storage"]["files"][0]["contents"]["inline"].as<std::string>() == "no newline");
    CHECK(octal_mode(butane["storage"]["files"][0]["mode"]) == 0600);
    CHECK(butane["storage"]["files"][1]["contents"]["inline"].as<std::string>() == "two\n\n");
    CHECK(butane["storage"]["files"][2]["contents"]["inline"].as<std::string>() ==
          " leading blank\n");
}

TEST_CASE("a directory without index.json is not a release") {
    fs::create_directories("empty");
    std::vector<std::string> warnings;
    CHECK_THROWS_WITH_AS(
        ksx::ignition::node_config_from_release(fs::absolute("empty"), {}, warnings),
        (fs::absolute("empty").string() + ": no index.json (not a release "
                                          "directory)")
            .c_str(),
        ksx::InputError);
}

TEST_CASE("an index.json of another shape is an input error naming it") {
    // `""` escaped as nlohmann-json's type_error (tests/fuzz found it), as did the others.
    fs::create_directories("shapes");
    auto index = fs::absolute("shapes/index.json");
    auto named = index.string() + ": ";
    for (const char* text :
         {R"("")", "[]", R"({"format": "1", "images": []})", R"({"format": 1, "images": [7]})",
          R"({"format": 1, "images": [{"os": []}]})"}) {
        CAPTURE(text);
        std::ofstream(index) << text;
        std::vector<std::string> warnings;
        CHECK_THROWS_WITH_AS(
            ksx::ignition::node_config_from_release(fs::absolute("shapes"), {}, warnings),
            doctest::Contains(named.c_str()), ksx::InputError);
    }
}

TEST_CASE("only the images for the node's OS are placed") {
    fs::remove_all("multi");
    fs::create_directories("multi");
    std::ofstream("multi/index.json") << R"({"format": 1, "activator": null, "images": [
      {"file": "a_1_k.raw", "name": "a", "sha256": "11", "os": {"id": "debian", "version_id": "12", "sysext_level": null}},
      {"file": "b_1_k.raw", "name": "b", "sha256": "22", "os": {"id": "flatcar", "version_id": null, "sysext_level": "1.0"}},
      {"file": "c_1_k.raw", "name": "c", "sha256": "33", "os": {"id": "_any", "version_id": null, "sysext_level": null}}]})";
    ksx::ignition::NodeOptions options;
    options.base_url = "http://h";
    options.with_activator = false; // the release has none: the OS image carries it
    auto paths = [&] {
        std::vector<std::string> out;
        for (const auto& f : from_release(fs::absolute("multi"), options).files) {
            out.push_back(f.path);
        }
        return out;
    };
    // All three, and a warning that they are for several OS releases.
    std::vector<std::string> all_warnings;
    auto all =
        ksx::ignition::node_config_from_release(fs::absolute("multi"), options, all_warnings);
    CHECK(all.files.size() == 3);
    REQUIRE(all_warnings.size() == 1);
    CHECK(all_warnings[0] == "the images of " + fs::absolute("multi").string() +
                                 " are for several OS releases (debian 12, flatcar level 1.0): "
                                 "the node gets all of them and uses those of its own; pass "
                                 "--os-id and --os-version (and --architecture) of the node to "
                                 "give it only those");
    options.os_id = "flatcar";
    CHECK(paths() == std::vector<std::string>{"/var/lib/kmod-sysext/b/b_1_k.raw",
                                              "/var/lib/kmod-sysext/c/c_1_k.raw"});
    options.os_version = "1.0";
    CHECK(paths() == std::vector<std::string>{"/var/lib/kmod-sysext/b/b_1_k.raw"});
    options.os_id = "debian";
    options.os_version = "12";
    CHECK(paths() == std::vector<std::string>{"/var/lib/kmod-sysext/a/a_1_k.raw"});
    options.os_version = "13";
    std::vector<std::string> warnings;
    CHECK_THROWS_WITH_AS(
        ksx::ignition::node_config_from_release(fs::absolute("multi"), options, warnings),
        (fs::absolute("multi").string() + "/index.json: no image for debian 13").c_str(),
        ksx::InputError);
    // The architecture narrows too (the index above records none).
    options.os_version = "12";
    options.architecture = "arm64";
    CHECK_THROWS_WITH_AS(
        ksx::ignition::node_config_from_release(fs::absolute("multi"), options, warnings),
        (fs::absolute("multi").string() + "/index.json: no image for debian 12 arm64").c_str(),
        ksx::InputError);
}

TEST_CASE("a release without the activator needs --no-activator, which leaves the binary out") {
    auto release = sample_release();
    auto text = ksx::read_file(release / "index.json");
    auto at = text.find("\"activator\": {");
    REQUIRE(at != std::string::npos);
    text = text.substr(0, at) + "\"activator\": null\n}\n";
    std::ofstream(release / "index.json") << text;
    auto options = sample_options();
    std::vector<std::string> warnings;
    CHECK_THROWS_WITH_AS(
        ksx::ignition::node_config_from_release(release, options, warnings),
        (release.string() +
         "/index.json: the release carries no activator (\"activator\": null), so "
         "http://127.0.0.1:8080/rel/kmod-sysext-activate would not exist: publish the release "
         "with --activator FILE, or pass --no-activator when the node's OS image already has "
         "/opt/bin/kmod-sysext-activate")
            .c_str(),
        ksx::InputError);

    options.with_activator = false;
    options.bin_dir = "/usr/bin";
    auto config = from_release(release, options);
    CHECK(config.directories == std::vector<std::string>{"/var/lib/kmod-sysext/demo"});
    for (const auto& f : config.files) {
        CHECK(f.path.find("kmod-sysext-activate") == std::string::npos);
    }
    CHECK(config.units[0].contents.find("ExecStart=/usr/bin/kmod-sysext-activate select\n") !=
          std::string::npos);
    std::ofstream("no-activator.ign") << ksx::ignition::to_ignition(config);
    CHECK(ksx::run_process({"ignition-validate", "no-activator.ign"}).exit_status == 0);
}

TEST_CASE("signed images without --cert give a warning; unsigned ones do not") {
    auto options = sample_options();
    options.certificate_pem.reset();
    std::vector<std::string> warnings;
    ksx::ignition::node_config_from_release(sample_release(), options, warnings);
    REQUIRE(warnings.size() == 1);
    CHECK(warnings[0] == "the images of " + fs::absolute("release").string() +
                             " are signed, but no --cert was given: the node gets no certificate "
                             "in /etc/verity.d and will not enforce signatures (the activator "
                             "requires them only once a certificate is installed, and takes "
                             "unsigned images otherwise); pass --cert CERT");

    fs::remove_all("unsigned");
    fs::create_directories("unsigned");
    std::ofstream("unsigned/index.json") << R"({"format": 1, "activator": null, "images": [
      {"file": "a_1_k.raw", "name": "a", "sha256": "11", "root_hash": null, "signer": null,
       "sidecars": []}]})";
    options.with_activator = false;
    warnings.clear();
    ksx::ignition::node_config_from_release(fs::absolute("unsigned"), options, warnings);
    CHECK(warnings.empty());
}

TEST_CASE("the prefetch timer: its units, the release URL for them, and a valid config") {
    auto options = sample_options();
    options.prefetch_timer = true;
    auto config = from_release(sample_release(), options);
    REQUIRE(config.units.size() == 4);
    CHECK(config.units[2].name == "kmod-sysext-prefetch.service");
    CHECK_FALSE(config.units[2].enabled.has_value()); // started by its timer
    CHECK(config.units[2].contents.find(
              "ExecStart=/opt/bin/kmod-sysext-activate prefetch --all-kernels --from "
              "${KMOD_SYSEXT_RELEASE_URL}\n") != std::string::npos);
    CHECK(config.units[2].contents.find(std::string("EnvironmentFile=") +
                                        ksx::ignition::prefetch_config_path + "\n") !=
          std::string::npos);
    CHECK(config.units[3].name == "kmod-sysext-prefetch.timer");
    CHECK(config.units[3].enabled == true);
    CHECK(config.units[3].contents.find("WantedBy=timers.target") != std::string::npos);
    auto conf_file = std::find_if(config.files.begin(), config.files.end(), [](const auto& f) {
        return f.path == "/etc/kmod-sysext/prefetch.conf";
    });
    REQUIRE(conf_file != config.files.end());
    const auto& conf = *conf_file;
    CHECK(conf.text == "KMOD_SYSEXT_RELEASE_URL=http://127.0.0.1:8080/rel\n");

    auto text = ksx::ignition::to_ignition(config);
    CHECK(nlohmann::json::parse(text)["systemd"]["units"][2].contains("enabled") == false);
    std::ofstream("timer.ign") << text;
    CHECK(ksx::run_process({"ignition-validate", "timer.ign"}).exit_status == 0);
    auto butane = YAML::Load(ksx::ignition::to_butane(config, ksx::ignition::Variant::Flatcar));
    CHECK(butane_to_ignition(butane) == nlohmann::json::parse(text));
}

TEST_CASE("systemd-analyze verify accepts every unit a config installs, without a warning") {
    auto options = sample_options();
    options.prefetch_timer = true;
    options.bin_dir = KSX_BINARY_DIR "/bin"; // verify checks that ExecStart= is executable
    auto config = from_release(sample_release(), options);
    fs::remove_all("units");
    fs::create_directories("units");
    std::vector<std::string> argv{"systemd-analyze", "verify", "--man=no"};
    for (const auto& unit : config.units) {
        std::ofstream(fs::path("units") / unit.name) << unit.contents;
        argv.push_back(fs::absolute(fs::path("units") / unit.name).string());
    }
    ksx::ProcessOptions captured;
    captured.log_file = fs::absolute("units/verify.log");
    CHECK(ksx::run_process(argv, captured).exit_status == 0);
    CHECK(ksx::read_file("units/verify.log") == "");
}

TEST_CASE("a manifest with userspace: shared provisions each version's shared image once") {
    fs::create_directories("m/src");
    std::ofstream("m/x.conf") << "x\n";
    auto manifest = ksx::manifest::parse("apiVersion: kmod-sysext/v1\n"
                                         "name: demo\n"
                                         "version: 1.0.0\n"
                                         "target: {id: debian, version_id: \"13\", "
                                         "architecture: x86-64}\n"
                                         "kernels:\n"
                                         "  - release: 6.12.57+deb13-amd64\n"
                                         "  - release: 6.12.58+deb13-amd64\n"
                                         "source: {path: src}\n"
                                         "build: {commands: [make]}\n"
                                         "modules: [{name: demo}]\n"
                                         "files: [{source: x.conf, destination: /usr/share/x}]\n"
                                         "userspace: shared\n",
                                         "m/demo.yaml");
    ksx::ignition::NodeOptions options;
    options.base_url = "https://example.org/r";
    std::vector<std::string> skipped;
    auto config = ksx::ignition::node_config_from_manifest(manifest, options, skipped);
    std::vector<std::string> paths;
    for (const auto& file : config.files) {
        if (file.path.starts_with("/var/lib/kmod-sysext/demo/")) {
            paths.push_back(file.path);
        }
    }
    CHECK(paths ==
          std::vector<std::string>{"/var/lib/kmod-sysext/demo/demo_1.0.0_6.12.57+deb13-amd64.raw",
                                   "/var/lib/kmod-sysext/demo/demo-userspace_1.0.0.raw",
                                   "/var/lib/kmod-sysext/demo/demo_1.0.0_6.12.58+deb13-amd64.raw"});
}

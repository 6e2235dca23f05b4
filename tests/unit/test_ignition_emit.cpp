// Node configs as Ignition 3.3.0 JSON and Butane: exact shapes, ignition-validate, and the
// Butane text read back (yaml-cpp) saying the same as the JSON.
#include "ignition/emit.hpp"
#include "ignition/node_config.hpp"
#include "util/error.hpp"
#include "util/file_io.hpp"
#include "util/process.hpp"

#include <doctest/doctest.h>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <yaml-cpp/yaml.h>

namespace fs = std::filesystem;
using ksx::ignition::NodeConfig;

namespace {

// index.json as `publish` writes it, for one signed image.
fs::path sample_release() {
    fs::remove_all("release");
    fs::create_directories("release");
    std::ofstream("release/index.json") << R"({
  "format": 1,
  "images": [
    {"file": "demo_2.0_6.1.0-56-amd64.raw", "name": "demo", "version": "2.0",
     "kernel": "6.1.0-56-amd64", "sha256": ")" +
                                               std::string(64, 'a') + R"(",
     "sidecars": [{"file": "demo_2.0_6.1.0-56-amd64.roothash", "sha256": ")" +
                                               std::string(64, 'b') + R"("}]}
  ],
  "activator": {"file": "kmod-sysext-activate", "sha256": ")" +
                                               std::string(64, 'c') + R"("}
})";
    return fs::absolute("release");
}

NodeConfig sample_config() {
    ksx::ignition::NodeOptions options;
    options.base_url = "http://127.0.0.1:8080/rel";
    options.certificate_pem = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";
    return ksx::ignition::node_config_from_release(sample_release(), options);
}

// Butane reads YAML 1.1, where 0755 is octal.
int octal_mode(const YAML::Node& node) {
    return std::stoi(node.as<std::string>(), nullptr, 8);
}

// The Ignition JSON a Butane file stands for, by Butane's rules for the fields we write.
nlohmann::json butane_to_ignition(const YAML::Node& butane) {
    nlohmann::json out;
    out["ignition"]["version"] = "3.3.0";
    for (const auto& d : butane["storage"]["directories"]) {
        out["storage"]["directories"].push_back(
            {{"path", d["path"].as<std::string>()}, {"mode", octal_mode(d["mode"])}});
    }
    for (const auto& f : butane["storage"]["files"]) {
        nlohmann::json contents;
        if (f["contents"]["inline"]) {
            contents["source"] = ksx::ignition::data_url(f["contents"]["inline"].as<std::string>());
        } else {
            contents["source"] = f["contents"]["source"].as<std::string>();
        }
        if (f["contents"]["verification"]) {
            contents["verification"]["hash"] =
                f["contents"]["verification"]["hash"].as<std::string>();
        }
        out["storage"]["files"].push_back({{"path", f["path"].as<std::string>()},
                                           {"mode", octal_mode(f["mode"])},
                                           {"contents", contents}});
    }
    for (const auto& u : butane["systemd"]["units"]) {
        out["systemd"]["units"].push_back({{"name", u["name"].as<std::string>()},
                                           {"enabled", u["enabled"].as<bool>()},
                                           {"contents", u["contents"].as<std::string>()}});
    }
    return out;
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
    CHECK_THROWS_WITH_AS(ksx::ignition::node_config_from_release(fs::absolute("empty"), {}),
                         (fs::absolute("empty").string() + ": no index.json (not a release "
                                                           "directory)")
                             .c_str(),
                         ksx::InputError);
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
    auto paths = [&] {
        std::vector<std::string> out;
        for (const auto& f :
             ksx::ignition::node_config_from_release(fs::absolute("multi"), options).files) {
            out.push_back(f.path);
        }
        return out;
    };
    CHECK(paths().size() == 4); // the activator and three images
    options.os_id = "flatcar";
    CHECK(paths() == std::vector<std::string>{"/opt/bin/kmod-sysext-activate",
                                              "/var/lib/kmod-sysext/b/b_1_k.raw",
                                              "/var/lib/kmod-sysext/c/c_1_k.raw"});
    options.os_version = "1.0";
    CHECK(paths().size() == 2);
    options.os_id = "debian";
    options.os_version = "12";
    CHECK(paths() == std::vector<std::string>{"/opt/bin/kmod-sysext-activate",
                                              "/var/lib/kmod-sysext/a/a_1_k.raw"});
    options.os_version = "13";
    CHECK_THROWS_WITH_AS(
        ksx::ignition::node_config_from_release(fs::absolute("multi"), options),
        (fs::absolute("multi").string() + "/index.json: no image for debian 13").c_str(),
        ksx::InputError);
}

// dkms.conf evaluation: the real script run by the host's bash, as the container runs it.
#include "build/dkms.hpp"
#include "util/error.hpp"
#include "util/file_io.hpp"
#include "util/process.hpp"

#include <doctest/doctest.h>
#include <filesystem>
#include <fstream>

namespace fs = std::filesystem;
using namespace ksx::build;

namespace {

// Evaluates `conf` for `kernel` with bash; returns the exit status and fills `conf_out`.
// `with_config`: the headers have a .config (unless they have one already).
int evaluate(const std::string& conf, const std::string& kernel, DkmsConf& conf_out,
             const std::string& arch = "x86_64", bool with_config = true) {
    fs::create_directories("dkms");
    std::ofstream("dkms/dkms.conf") << conf;
    fs::create_directories("dkms/headers");
    if (with_config && !fs::exists("dkms/headers/.config")) {
        std::ofstream("dkms/headers/.config") << "CONFIG_MODULES=y\nCONFIG_PCI=m\n";
    }
    DkmsContext context;
    context.kernelver = kernel;
    context.kernel_source_dir = (fs::current_path() / "dkms/headers").string();
    context.arch = arch;
    ksx::ProcessOptions options;
    options.env = dkms_environment(context);
    options.log_file = fs::current_path() / "dkms/log";
    fs::remove("dkms/variables");
    auto result = ksx::run_process(
        {"bash", "-c", dkms_evaluation_script(), "dkms", "dkms/dkms.conf", "dkms/variables"},
        options);
    if (result.exit_status == 0) {
        conf_out = dkms_conf_from(parse_dkms_output(ksx::read_file("dkms/variables")), "dkms.conf");
    }
    return result.exit_status;
}

const std::string base = "PACKAGE_NAME=\"demo\"\n"
                         "PACKAGE_VERSION=\"1.2\"\n"
                         "BUILT_MODULE_NAME[0]=\"demo\"\n"
                         "BUILT_MODULE_LOCATION[0]=\"src/\"\n"
                         "BUILT_MODULE_NAME[1]=\"demo_helper\"\n"
                         "DEST_MODULE_NAME[1]=\"demo-helper\"\n"
                         "STRIP[1]=no\n";

} // namespace

TEST_CASE("dkms.conf gives the package, DKMS's default make and its modules") {
    DkmsConf conf;
    REQUIRE(evaluate(base, "6.1.0-56-amd64", conf) == 0);
    CHECK(conf.package_name == "demo");
    CHECK(conf.package_version == "1.2");
    CHECK(conf.make == "make -C " + (fs::current_path() / "dkms/headers").string() +
                           " M=/var/lib/dkms/demo/1.2/build");
    REQUIRE(conf.modules.size() == 2);
    CHECK(conf.modules[0].built_name == "demo");
    CHECK(conf.modules[0].built_location == "src/");
    CHECK(conf.modules[0].dest_name == "demo");
    CHECK(conf.modules[0].strip);
    CHECK(conf.modules[1].dest_name == "demo-helper");
    CHECK_FALSE(conf.modules[1].strip);
    CHECK(conf.excluded.empty());
}

TEST_CASE("MAKE_MATCH and PATCH_MATCH pick by the kernel release") {
    const auto text = base + "MAKE[0]=\"make KVER=${kernelver} MOD=${module}-${module_version}\"\n"
                             "MAKE[1]=\"make NEW=1\"\n"
                             "MAKE_MATCH[1]=\"^6\\.1[0-9]\"\n"
                             "PATCH[0]=\"all.patch\"\n"
                             "PATCH[1]=\"old.patch\"\n"
                             "PATCH_MATCH[1]=\"^6\\.1\\.\"\n";
    DkmsConf old_kernel;
    REQUIRE(evaluate(text, "6.1.0-56-amd64", old_kernel) == 0);
    CHECK(old_kernel.make == "make KVER=6.1.0-56-amd64 MOD=demo-1.2");
    CHECK(old_kernel.patches == std::vector<std::string>{"all.patch", "old.patch"});
    DkmsConf new_kernel;
    REQUIRE(evaluate(text, "6.12.117+deb12-amd64", new_kernel) == 0);
    CHECK(new_kernel.make == "make NEW=1");
    CHECK(new_kernel.patches == std::vector<std::string>{"all.patch"});
}

TEST_CASE("MAKE[0] applies unless MAKE_MATCH[0] is set and does not match, as in DKMS 3") {
    const auto own = "MAKE[0]=\"make OWN=1\"\n";
    DkmsConf conf;
    REQUIRE(evaluate(base + own + "MAKE_MATCH[0]=\"^5\\.\"\n", "6.1.0-56-amd64", conf) == 0);
    CHECK(conf.make == "make -C " + (fs::current_path() / "dkms/headers").string() +
                           " M=/var/lib/dkms/demo/1.2/build");
    REQUIRE(evaluate(base + own + "MAKE_MATCH[0]=\"^6\\.1\\.\"\n", "6.1.0-56-amd64", conf) == 0);
    CHECK(conf.make == "make OWN=1");
    REQUIRE(evaluate(base + own, "6.1.0-56-amd64", conf) == 0);
    CHECK(conf.make == "make OWN=1");
}

TEST_CASE("MAKE[n] for n > 0 applies only when its MAKE_MATCH[n] is set and matches") {
    const auto text = base + "MAKE[0]=\"make ZERO=1\"\n"
                             "MAKE[1]=\"make ONE=1\"\n"
                             "MAKE[2]=\"make TWO=1\"\n"
                             "MAKE_MATCH[2]=\"^6\\.12\\.\"\n";
    DkmsConf old_kernel;
    REQUIRE(evaluate(text, "6.1.0-56-amd64", old_kernel) == 0);
    CHECK(old_kernel.make == "make ZERO=1"); // MAKE[1] has no MAKE_MATCH[1]: never chosen
    DkmsConf new_kernel;
    REQUIRE(evaluate(text, "6.12.117+deb12-amd64", new_kernel) == 0);
    CHECK(new_kernel.make == "make TWO=1");
}

TEST_CASE("BUILT_MODULE_NAME[0] defaults to PACKAGE_NAME in a dkms.conf of one module") {
    DkmsConf conf;
    REQUIRE(evaluate("PACKAGE_NAME=\"solo\"\nPACKAGE_VERSION=\"0.8\"\n"
                     "DEST_MODULE_LOCATION[0]=\"/kernel/drivers/acpi\"\n",
                     "6.1.0-56-amd64", conf) == 0);
    REQUIRE(conf.modules.size() == 1);
    CHECK(conf.modules[0].built_name == "solo");
    CHECK(conf.modules[0].dest_name == "solo");
    // Unindexed assignments are index 0 (dm-writeboost's dkms.conf writes them so).
    REQUIRE(evaluate("PACKAGE_NAME=\"wb\"\nPACKAGE_VERSION=\"2\"\nMAKE=\"make all\"\n"
                     "BUILT_MODULE_NAME=\"dm-writeboost\"\nDEST_MODULE_LOCATION=\"/extra\"\n",
                     "6.1.0-56-amd64", conf) == 0);
    CHECK(conf.make == "make all");
    REQUIRE(conf.modules.size() == 1);
    CHECK(conf.modules[0].built_name == "dm-writeboost");
    // With two records neither gets a default: DKMS refuses record #0 without a name.
    CHECK_THROWS_WITH_AS(evaluate("PACKAGE_NAME=\"pair\"\nPACKAGE_VERSION=\"1\"\n"
                                  "DEST_MODULE_LOCATION[0]=\"/extra\"\n"
                                  "BUILT_MODULE_NAME[1]=\"second\"\n",
                                  "6.1.0-56-amd64", conf),
                         "dkms.conf: BUILT_MODULE_NAME[0] is not set (it defaults to "
                         "PACKAGE_NAME only in a dkms.conf of one module)",
                         ksx::InputError);
}

TEST_CASE("STRIP[n] reads its first letter and defaults to STRIP[0], as DKMS does") {
    DkmsConf conf;
    REQUIRE(evaluate(base + "STRIP[0]=No\nBUILT_MODULE_NAME[2]=third\nSTRIP[2]=YES\n",
                     "6.1.0-56-amd64", conf) == 0);
    REQUIRE(conf.modules.size() == 3);
    CHECK_FALSE(conf.modules[0].strip);
    CHECK_FALSE(conf.modules[1].strip); // STRIP[1]=no in `base`
    CHECK(conf.modules[2].strip);
    REQUIRE(evaluate(base + "STRIP[0]=n\nBUILT_MODULE_NAME[2]=third\n", "6.1.0-56-amd64", conf) ==
            0);
    CHECK_FALSE(conf.modules[2].strip); // unset: STRIP[0]'s
}

TEST_CASE("CLEAN is read with the package's variables expanded") {
    DkmsConf conf;
    REQUIRE(evaluate(base + "CLEAN=\"make -C ${kernel_source_dir} M=${dkms_tree}/"
                            "${PACKAGE_NAME}/${PACKAGE_VERSION}/build clean\"\n",
                     "6.1.0-56-amd64", conf) == 0);
    CHECK(conf.clean == "make -C " + (fs::current_path() / "dkms/headers").string() +
                            " M=/var/lib/dkms/demo/1.2/build clean");
    REQUIRE(evaluate(base, "6.1.0-56-amd64", conf) == 0);
    CHECK(conf.clean.empty());
}

TEST_CASE("values are expanded twice as DKMS's safe_source does") {
    // zfs's dkms.conf relies on this: --with-qat=\"\" becomes --with-qat=.
    DkmsConf conf;
    REQUIRE(evaluate(base + "PRE_BUILD=\"configure --with-qat=$( echo \\\"\\\" )\"\n", "6.1.0-1",
                     conf) == 0);
    CHECK(conf.pre_build == "configure --with-qat=");
}

TEST_CASE("BUILD_EXCLUSIVE rules exclude a kernel with the reason") {
    DkmsConf conf;
    REQUIRE(evaluate(base + "BUILD_EXCLUSIVE_KERNEL=\"^6\\.1\\.\"\n", "6.12.117+deb12-amd64",
                     conf) == 0);
    CHECK(conf.excluded == "BUILD_EXCLUSIVE_KERNEL=\"^6\\.1\\.\" does not match "
                           "6.12.117+deb12-amd64");
    REQUIRE(evaluate(base + "BUILD_EXCLUSIVE_KERNEL_MAX=\"6.2\"\n", "6.12.117+deb12-amd64", conf) ==
            0);
    CHECK(conf.excluded ==
          "kernel 6.12.117+deb12-amd64 is newer than BUILD_EXCLUSIVE_KERNEL_MAX=\"6.2\"");
    REQUIRE(evaluate(base + "BUILD_EXCLUSIVE_KERNEL_MIN=\"6.3\"\n", "6.1.0-56-amd64", conf) == 0);
    CHECK(conf.excluded ==
          "kernel 6.1.0-56-amd64 is older than BUILD_EXCLUSIVE_KERNEL_MIN=\"6.3\"");
    // DKMS compares VER() strings: numbers padded to three digits, so 6.12 is above 6.2.
    REQUIRE(evaluate(base + "BUILD_EXCLUSIVE_KERNEL_MIN=\"6.2\"\n", "6.12.117+deb12-amd64", conf) ==
            0);
    CHECK(conf.excluded.empty());
    // DKMS 3.2: OBSOLETE_BY is a BUILD_EXCLUSIVE_KERNEL_MAX.
    REQUIRE(evaluate(base + "OBSOLETE_BY=\"6.5\"\n", "6.12.117+deb12-amd64", conf) == 0);
    CHECK(conf.excluded ==
          "kernel 6.12.117+deb12-amd64 is newer than BUILD_EXCLUSIVE_KERNEL_MAX=\"6.5\"");
    REQUIRE(evaluate(base + "BUILD_EXCLUSIVE_ARCH=\"aarch64\"\n", "6.1.0-56-amd64", conf) == 0);
    CHECK(conf.excluded == "BUILD_EXCLUSIVE_ARCH=\"aarch64\" does not match x86_64");
    REQUIRE(evaluate(base + "BUILD_EXCLUSIVE_CONFIG=\"CONFIG_PCI !CONFIG_MODULES\"\n",
                     "6.1.0-56-amd64", conf) == 0);
    CHECK(conf.excluded ==
          "BUILD_EXCLUSIVE_CONFIG=\"CONFIG_PCI !CONFIG_MODULES\" does not hold (CONFIG_MODULES)");
    REQUIRE(evaluate(base + "BUILD_EXCLUSIVE_CONFIG=\"CONFIG_PCI\"\n", "6.1.0-56-amd64", conf) ==
            0);
    CHECK(conf.excluded.empty());
}

TEST_CASE("BUILD_EXCLUSIVE_CONFIG reads auto.conf before .config, and neither means no check") {
    const auto text = base + "BUILD_EXCLUSIVE_CONFIG=\"CONFIG_ACPI\"\n";
    DkmsConf conf;
    REQUIRE(evaluate(text, "6.1.0-56-amd64", conf) == 0); // .config has no CONFIG_ACPI
    CHECK(conf.excluded == "BUILD_EXCLUSIVE_CONFIG=\"CONFIG_ACPI\" does not hold (CONFIG_ACPI)");
    fs::create_directories("dkms/headers/include/config");
    std::ofstream("dkms/headers/include/config/auto.conf") << "CONFIG_ACPI=y\n";
    REQUIRE(evaluate(text, "6.1.0-56-amd64", conf) == 0);
    CHECK(conf.excluded.empty());
    fs::remove_all("dkms/headers");
    fs::create_directories("dkms/headers");
    REQUIRE(evaluate(text, "6.1.0-56-amd64", conf, "x86_64", false) == 0);
    CHECK(conf.excluded.empty());
}

TEST_CASE("a broken dkms.conf fails the evaluation") {
    DkmsConf conf;
    CHECK(evaluate(base + "MAKE[0]=\"make\nif then\n", "6.1.0-1", conf) != 0);
}

TEST_CASE("a dkms.conf without its package name or modules is an input error") {
    DkmsConf conf;
    CHECK_THROWS_WITH_AS(evaluate("PACKAGE_VERSION=1\nBUILT_MODULE_NAME[0]=x\n", "6.1.0-1", conf),
                         "dkms.conf: PACKAGE_NAME is not set", ksx::InputError);
    CHECK_THROWS_WITH_AS(evaluate("PACKAGE_NAME=x\nPACKAGE_VERSION=1\n", "6.1.0-1", conf),
                         "dkms.conf: names no module (no BUILT_MODULE_NAME[n] or "
                         "DEST_MODULE_LOCATION[n] is set)",
                         ksx::InputError);
    CHECK_THROWS_WITH_AS(evaluate(base + "BUILT_MODULE_NAME[1]=helper.ko\n", "6.1.0-1", conf),
                         "dkms.conf: BUILT_MODULE_NAME[1] \"helper.ko\" is not a module name",
                         ksx::InputError);
    CHECK_THROWS_WITH_AS(evaluate(base + "BUILT_MODULE_LOCATION[0]=../up\n", "6.1.0-1", conf),
                         "dkms.conf: BUILT_MODULE_LOCATION[0] \"../up\" leaves the build "
                         "directory",
                         ksx::InputError);
}

TEST_CASE("an evaluation output whose array index is not a number is an input error") {
    // NAME NUL VALUE NUL, as the evaluation writes them; found by the dkms_output fuzz harness.
    auto output = [](const std::string& name) {
        using namespace std::string_literals;
        return "PACKAGE_NAME\0demo\0PACKAGE_VERSION\0001.0\0"s + name + "\0x\0"s;
    };
    for (const std::string name : {"BUILT_MODULE_NAME[ULE_LOCATION[0]", "PATCH[]", "PATCH[-1]",
                                   "PATCH[99999999999]", "STRIP[1x]"}) {
        CAPTURE(name);
        CHECK_THROWS_WITH_AS(dkms_conf_from(parse_dkms_output(output(name)), "dkms.conf"),
                             ("dkms.conf: " + name + " does not have a numeric index").c_str(),
                             ksx::InputError);
    }
}

TEST_CASE("a bare make gets -j and KERNELRELEASE as in DKMS 3, a quoted one does not") {
    DkmsConf conf;
    conf.make = "make";
    CHECK(dkms_make_command(conf, 2, "6.1.0-56-amd64") ==
          "make -j2 KERNELRELEASE='6.1.0-56-amd64'");
    conf.make = "'make' -j4 modules";
    CHECK(dkms_make_command(conf, 2, "6.1.0-56-amd64") == "'make' -j4 modules");
}

TEST_CASE("PRE_BUILD runs the executable script from the build dir with its words") {
    fs::create_directories("b");
    std::ofstream("b/configure") << "#!/bin/sh\necho \"$@\" > args\n";
    fs::permissions("b/configure", fs::perms::owner_all);
    ksx::ProcessOptions options;
    auto dir = (fs::current_path() / "b").string();
    auto status = ksx::run_process(
        {"bash", "-c", "cd " + dir + " && " + dkms_script_command("configure --a=1\n  --b", dir)},
        options);
    CHECK(status.exit_status == 0);
    CHECK(ksx::read_file("b/args") == "--a=1 --b\n");
}

TEST_CASE("systemd architecture names map to uname -m") {
    CHECK(kernel_arch("x86-64") == "x86_64");
    CHECK(kernel_arch("arm64") == "aarch64");
}

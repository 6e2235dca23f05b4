#include "build/dkms.hpp"

#include "util/error.hpp"

#include <algorithm>
#include <charconv>
#include <string_view>

namespace ksx::build {

namespace {

// Mirrors DKMS 3's read_conf() (3.0.10 in Debian 12, 3.2.2 in Debian 13): safe_source()
// sources dkms.conf in a subshell, echoes every known variable as NAME[i]="value" and sources
// that again (so a value is expanded twice, as DKMS does: zfs's --with-qat="" becomes
// --with-qat=); it runs twice here, the second time with $module and $module_version known.
// The choices below are read_conf()'s, quoted in the comments; BUILD_EXCLUSIVE_* are checked
// here so that the reason can be reported.
const std::string kScript = R"BASH(
conf=$1
out=$2
dkms_conf_variables="PACKAGE_NAME PACKAGE_VERSION MAKE MAKE_MATCH PATCH PATCH_MATCH PRE_BUILD
    POST_BUILD CLEAN BUILT_MODULE_NAME BUILT_MODULE_LOCATION DEST_MODULE_NAME
    DEST_MODULE_LOCATION STRIP BUILD_EXCLUSIVE_KERNEL BUILD_EXCLUSIVE_KERNEL_MIN
    BUILD_EXCLUSIVE_KERNEL_MAX BUILD_EXCLUSIVE_ARCH BUILD_EXCLUSIVE_CONFIG OBSOLETE_BY"
safe_source() {
    local tmpfile
    tmpfile=$(mktemp) || exit 3
    (
        exec >"$tmpfile"
        . "$1" >/dev/null || exit 3
        for _export_env in $dkms_conf_variables; do
            for _i in $(eval echo \${!$_export_env[@]}); do
                eval echo '$_export_env[$_i]=\"${'$_export_env'[$_i]}\"'
            done
        done
    ) || exit 3
    . "$tmpfile" || exit 3
    rm -f "$tmpfile"
}
module=
module_version=
safe_source "$conf"
module=$PACKAGE_NAME
module_version=$PACKAGE_VERSION
unset $dkms_conf_variables
safe_source "$conf"
: >"$out"
emit() { printf '%s\0%s\0' "$1" "$2" >>"$out"; }
emit PACKAGE_NAME "${PACKAGE_NAME-}"
emit PACKAGE_VERSION "${PACKAGE_VERSION-}"
# DKMS: MAKE[0] unless MAKE_MATCH[0] is set, then the last MAKE[i] whose MAKE_MATCH[i] is set
# and matches; the default when none applies:
#   [[ ${MAKE_MATCH[0]} ]] || make_command="${MAKE[0]}"
#   for ((index=0; index < ${#MAKE[@]}; index++)); do
#   [[ ${MAKE[$index]} && ${MAKE_MATCH[$index]} && $1 =~ ${MAKE_MATCH[$index]} ]] && ...
# (index runs up to the number of entries, not the highest index: DKMS's own loop.)
make_command=
[[ ${MAKE_MATCH[0]-} ]] || make_command=${MAKE[0]-}
for ((index = 0; index < ${#MAKE[@]}; index++)); do
    if [[ ${MAKE[$index]-} && ${MAKE_MATCH[$index]-} && $kernelver =~ ${MAKE_MATCH[$index]} ]]; then
        make_command=${MAKE[$index]}
    fi
done
[[ $make_command ]] ||
    make_command="make -C $kernel_source_dir M=$dkms_tree/$module/$module_version/build"
emit MAKE "$make_command"
# DKMS: [[ ${PATCH[$index]} && (! ${PATCH_MATCH[$index]} || $1 =~ ${PATCH_MATCH[$index]}) ]]
for ((index = 0; index < ${#PATCH[@]}; index++)); do
    if [[ ${PATCH[$index]-} && (-z ${PATCH_MATCH[$index]-} ||
        $kernelver =~ ${PATCH_MATCH[$index]}) ]]; then
        emit "PATCH[$index]" "${PATCH[$index]}"
    fi
done
emit PRE_BUILD "${PRE_BUILD-}"
emit POST_BUILD "${POST_BUILD-}"
emit CLEAN "${CLEAN-}"
# DKMS: one record per index up to the highest of the four arrays; "If unset, set by defaults":
#   [[ ! ${built_module_name[$index]} ]] && ((num_modules == 1)) &&
#       built_module_name[index]=$PACKAGE_NAME
# (3.0.10 tests ${#DEST_MODULE_LOCATION[@]} == 1, the same for the dkms.conf files it accepts).
max_index=-1
for index in "${!BUILT_MODULE_NAME[@]}" "${!BUILT_MODULE_LOCATION[@]}" \
    "${!DEST_MODULE_NAME[@]}" "${!DEST_MODULE_LOCATION[@]}"; do
    ((index > max_index)) && max_index=$index
done
num_modules=$((max_index + 1))
strip=()
for ((index = 0; index < num_modules; index++)); do
    name=${BUILT_MODULE_NAME[$index]-}
    [[ ! $name ]] && ((num_modules == 1)) && name=$PACKAGE_NAME
    case ${STRIP[$index]-} in
    [nN]*) strip[index]=no ;;
    [yY]*) strip[index]=yes ;;
    '') strip[index]=${strip[0]:-yes} ;;
    esac
    emit "BUILT_MODULE_NAME[$index]" "$name"
    emit "BUILT_MODULE_LOCATION[$index]" "${BUILT_MODULE_LOCATION[$index]-}"
    emit "DEST_MODULE_NAME[$index]" "${DEST_MODULE_NAME[$index]:-$name}"
    emit "DEST_MODULE_LOCATION[$index]" "${DEST_MODULE_LOCATION[$index]-}"
    emit "STRIP[$index]" "${strip[index]:-yes}"
done
# DKMS's VER(): numbers padded to three digits, compared as strings.
VER() {
    echo "$1" | sed -e 's:\([^0-9]\)\([0-9]\):\1 \2:g' \
        -e 's:\([0-9]\)\([^0-9]\):\1 \2:g' \
        -e 's:\(.*\): \1 :' \
        -e 's: \([0-9]\) : 00\1 :g' \
        -e 's: \([0-9][0-9]\) : 0\1 :g' \
        -e 's: ::g'
}
# DKMS 3.2: OBSOLETE_BY is a BUILD_EXCLUSIVE_KERNEL_MAX; the configuration is auto.conf when
# the headers have one, else .config, and BUILD_EXCLUSIVE_CONFIG is not checked without either.
[[ ${OBSOLETE_BY-} && ! ${BUILD_EXCLUSIVE_KERNEL_MAX-} ]] && BUILD_EXCLUSIVE_KERNEL_MAX=$OBSOLETE_BY
kernel_config=$kernel_source_dir/.config
[[ -e $kernel_source_dir/include/config/auto.conf ]] &&
    kernel_config=$kernel_source_dir/include/config/auto.conf
excluded=
if [[ ${BUILD_EXCLUSIVE_KERNEL-} && ! $kernelver =~ $BUILD_EXCLUSIVE_KERNEL ]]; then
    excluded="BUILD_EXCLUSIVE_KERNEL=\"$BUILD_EXCLUSIVE_KERNEL\" does not match $kernelver"
elif [[ ${BUILD_EXCLUSIVE_KERNEL_MIN-} &&
    "$(VER "$kernelver")" < "$(VER "$BUILD_EXCLUSIVE_KERNEL_MIN")" ]]; then
    excluded="kernel $kernelver is older than BUILD_EXCLUSIVE_KERNEL_MIN=\"$BUILD_EXCLUSIVE_KERNEL_MIN\""
elif [[ ${BUILD_EXCLUSIVE_KERNEL_MAX-} &&
    "$(VER "$kernelver")" > "$(VER "$BUILD_EXCLUSIVE_KERNEL_MAX")" ]]; then
    excluded="kernel $kernelver is newer than BUILD_EXCLUSIVE_KERNEL_MAX=\"$BUILD_EXCLUSIVE_KERNEL_MAX\""
elif [[ ${BUILD_EXCLUSIVE_ARCH-} && ! $arch =~ $BUILD_EXCLUSIVE_ARCH ]]; then
    excluded="BUILD_EXCLUSIVE_ARCH=\"$BUILD_EXCLUSIVE_ARCH\" does not match $arch"
elif [[ ${BUILD_EXCLUSIVE_CONFIG-} && -e $kernel_config ]]; then
    for option in $BUILD_EXCLUSIVE_CONFIG; do
        name=${option#!}
        if grep -q "^$name=[ym]" "$kernel_config"; then set=1; else set=0; fi
        if [[ $option == !* && $set == 1 ]] || [[ $option != !* && $set == 0 ]]; then
            excluded="BUILD_EXCLUSIVE_CONFIG=\"$BUILD_EXCLUSIVE_CONFIG\" does not hold ($name)"
            break
        fi
    done
fi
emit EXCLUDED "$excluded"
)BASH";

bool is_simple_name(const std::string& name) {
    return !name.empty() && name.find('/') == std::string::npos && name != "." && name != "..";
}

// DKMS refuses a BUILT_MODULE_NAME or DEST_MODULE_NAME that "ends in '.o' or '.ko'".
bool is_object_name(const std::string& name) {
    return name.ends_with(".o") || name.ends_with(".ko");
}

bool escapes(const std::string& relative) {
    if (relative.starts_with('/')) {
        return true;
    }
    size_t start = 0;
    while (start <= relative.size()) {
        auto end = relative.find('/', start);
        if (end == std::string::npos) {
            end = relative.size();
        }
        if (relative.compare(start, end - start, "..") == 0) {
            return true;
        }
        start = end + 1;
    }
    return false;
}

// Quotes for bash: 'it'\''s'.
std::string shell_quote(const std::string& text) {
    std::string out = "'";
    for (char c : text) {
        out += c == '\'' ? std::string("'\\''") : std::string(1, c);
    }
    return out + "'";
}

} // namespace

const std::string& dkms_evaluation_script() {
    return kScript;
}

std::vector<std::string> dkms_environment(const DkmsContext& context) {
    return {"kernelver=" + context.kernelver, "kernel_source_dir=" + context.kernel_source_dir,
            "arch=" + context.arch, "dkms_tree=" + context.dkms_tree,
            "source_tree=" + context.source_tree};
}

std::map<std::string, std::string> parse_dkms_output(const std::string& output) {
    std::map<std::string, std::string> variables;
    size_t at = 0;
    while (at < output.size()) {
        auto name_end = output.find('\0', at);
        auto value_end =
            name_end == std::string::npos ? std::string::npos : output.find('\0', name_end + 1);
        if (value_end == std::string::npos) {
            throw Error("malformed output of the dkms.conf evaluation");
        }
        variables[output.substr(at, name_end - at)] =
            output.substr(name_end + 1, value_end - name_end - 1);
        at = value_end + 1;
    }
    return variables;
}

DkmsConf dkms_conf_from(const std::map<std::string, std::string>& variables,
                        const std::string& where) {
    auto get = [&](const std::string& name) {
        auto found = variables.find(name);
        return found == variables.end() ? std::string() : found->second;
    };
    DkmsConf conf;
    conf.package_name = get("PACKAGE_NAME");
    conf.package_version = get("PACKAGE_VERSION");
    if (!is_simple_name(conf.package_name)) {
        throw InputError(where + ": PACKAGE_NAME is " +
                         (conf.package_name.empty() ? "not set" : "\"" + conf.package_name + "\""));
    }
    if (!is_simple_name(conf.package_version)) {
        throw InputError(
            where + ": PACKAGE_VERSION is " +
            (conf.package_version.empty() ? "not set" : "\"" + conf.package_version + "\""));
    }
    conf.make = get("MAKE");
    conf.clean = get("CLEAN");
    conf.pre_build = get("PRE_BUILD");
    conf.post_build = get("POST_BUILD");
    conf.excluded = get("EXCLUDED");
    // Indexed entries, in numeric order.
    std::map<int, std::string> patches;
    std::map<int, DkmsModule> modules;
    for (const auto& [name, value] : variables) {
        auto open = name.find('[');
        if (open == std::string::npos || name.back() != ']') {
            continue;
        }
        // The evaluation writes bash's array indices; anything else is refused, not thrown as
        // std::stoi's invalid_argument or out_of_range.
        auto digits = std::string_view(name).substr(open + 1, name.size() - open - 2);
        int index = -1;
        auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), index);
        if (digits.empty() || ec != std::errc() || end != digits.data() + digits.size() ||
            index < 0) {
            throw InputError(where + ": " + name + " does not have a numeric index");
        }
        auto base = name.substr(0, open);
        if (base == "PATCH") {
            patches[index] = value;
        } else if (base == "BUILT_MODULE_NAME") {
            modules[index].built_name = value;
        } else if (base == "BUILT_MODULE_LOCATION") {
            modules[index].built_location = value;
        } else if (base == "DEST_MODULE_NAME") {
            modules[index].dest_name = value;
        } else if (base == "DEST_MODULE_LOCATION") {
            modules[index].dest_location = value;
        } else if (base == "STRIP") {
            modules[index].strip = value != "no"; // the script gives "yes" or "no"
        }
    }
    for (auto& [index, patch] : patches) {
        if (!is_simple_name(patch)) {
            throw InputError(where + ": PATCH[" + std::to_string(index) + "] \"" + patch +
                             "\" is not a file name in patches/");
        }
        conf.patches.push_back(patch);
    }
    for (auto& [index, module] : modules) {
        const auto label = "[" + std::to_string(index) + "]";
        if (module.built_name.empty()) {
            // DKMS: "No 'BUILT_MODULE_NAME' directive specified for record #n".
            throw InputError(where + ": BUILT_MODULE_NAME" + label +
                             " is not set (it defaults to PACKAGE_NAME only in a dkms.conf of "
                             "one module)");
        }
        if (!is_simple_name(module.built_name) || is_object_name(module.built_name)) {
            throw InputError(where + ": BUILT_MODULE_NAME" + label + " \"" + module.built_name +
                             "\" is not a module name");
        }
        if (escapes(module.built_location)) {
            throw InputError(where + ": BUILT_MODULE_LOCATION" + label + " \"" +
                             module.built_location + "\" leaves the build directory");
        }
        if (!is_simple_name(module.dest_name) || is_object_name(module.dest_name)) {
            throw InputError(where + ": DEST_MODULE_NAME" + label + " \"" + module.dest_name +
                             "\" is not a module name");
        }
        conf.modules.push_back(module);
    }
    if (conf.modules.empty()) {
        throw InputError(where + ": names no module (no BUILT_MODULE_NAME[n] or "
                                 "DEST_MODULE_LOCATION[n] is set)");
    }
    return conf;
}

std::string dkms_make_command(const DkmsConf& conf, unsigned jobs, const std::string& kernelver) {
    // DKMS 3: ${make_command/#make/make -j$parallel_jobs KERNELRELEASE=$kernelver}, so a
    // command that starts with `make` gets -jN and KERNELRELEASE; a quoted 'make' (NVIDIA's
    // dkms.conf) opts out.
    std::string command = conf.make;
    if (command.starts_with("make")) {
        command = "make -j" + std::to_string(std::max(1u, jobs)) +
                  " KERNELRELEASE=" + shell_quote(kernelver) + command.substr(4);
    }
    return command;
}

std::string dkms_script_command(const std::string& script, const std::string& build_dir) {
    // DKMS runs `exec $run` with run="<build dir>/$PRE_BUILD", unquoted: the words split, and
    // a script that is not executable is only warned about.
    return "set -f; run=" + shell_quote(build_dir + "/" + script) +
           "; set -- $run; "
           "if [ -x \"$1\" ]; then exec \"$@\"; fi; "
           "echo \"warning: $1 is not executable; not run (as DKMS does)\" >&2";
}

std::string dkms_patch_command(const std::string& patch) {
    return "patch -p1 --batch --forward < patches/" + shell_quote(patch);
}

std::string kernel_arch(const std::string& systemd_architecture) {
    static const std::map<std::string, std::string> names{
        {"x86-64", "x86_64"},    {"x86", "i686"},
        {"arm64", "aarch64"},    {"arm", "armv7l"},
        {"ppc64-le", "ppc64le"}, {"s390x", "s390x"},
        {"riscv64", "riscv64"},  {"loongarch64", "loongarch64"}};
    auto found = names.find(systemd_architecture);
    return found == names.end() ? systemd_architecture : found->second;
}

} // namespace ksx::build

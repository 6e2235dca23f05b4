#!/bin/bash
# The Debian packages, built from this tree as Debian builds packages (dpkg-buildpackage -b in a
# copy of the tree outside it: the build compiles the project, with -j2 and ccache when
# installed) and used:
#   lintian      no errors (every tag it reports is printed);
#   contents     kmod-sysext-activator holds the activator, its units and the doc files only,
#                and its maintainer scripts enable select and load through deb-systemd-helper;
#   host         kmod-sysext's dependencies are met on the build host (apt-get satisfy -s), and
#                the packaged program, unpacked beside the host's files (dpkg-deb -x), builds
#                hello, whose image it then verifies;
#   guest        kmod-sysext-activator installed by the guest's own dpkg into a Debian 13 guest
#                root, booted with hello's images in the store: the Debian 13 boot test
#                (boot/test_generation.sh trixie) with KSX_ACTIVATOR_DEB, all its checks.
#   test_packages.sh ACTIVATE_BINARY KMOD_SYSEXT_BINARY SOURCE_DIR
# KSX_PACKAGES_REUSE=DIR checks the packages an earlier dpkg-buildpackage wrote to DIR instead of
# building them (steps 2 to 5 only). Exit status 77 (skipped) when qemu cannot run, as the boot
# test.
set -euo pipefail
ACTIVATE=$(realpath "${1:?path of kmod-sysext-activate}")
export KSX=$(realpath "${2:?path of kmod-sysext}")
export SRC=$(realpath "${3:?source tree}")
HERE=$(cd "$(dirname "$0")" && pwd)
HELLO_MANIFEST=$SRC/manifests/hello-debian12.yaml
. "$HERE/lib.sh"
set -o pipefail

for tool in dpkg-buildpackage dh lintian; do
    command -v "$tool" >/dev/null || fail "$tool is not installed (scripts/setup installs it)"
done
now() { date +%s; }
version=$(dpkg-parsechangelog -l "$SRC/debian/changelog" -S Version)

# 1. Build: the tree's files (tracked and new, not ignored: no build directory) in a copy.
pkg=$WORK/pkg
if [ -n "${KSX_PACKAGES_REUSE:-}" ]; then
    pkg=$(realpath "$KSX_PACKAGES_REUSE")
    echo "build: skipped, checking the packages in $pkg (KSX_PACKAGES_REUSE)"
else
    start=$(now)
    tree=$WORK/pkg/kmod-sysext-$version
    mkdir -p "$tree"
    if git -C "$SRC" rev-parse --git-dir >/dev/null 2>&1; then
        git -C "$SRC" ls-files -z --cached --others --exclude-standard |
            (cd "$SRC" && tar --null -T - -cf -) | tar -C "$tree" -xf -
    else
        tar -C "$SRC" --exclude=./build --exclude=./out -cf - . | tar -C "$tree" -xf -
    fi
    [ -f "$tree/debian/rules" ] || fail "no debian/rules in the copy of the tree"
    ccache_env=()
    if [ -d /usr/lib/ccache ]; then
        # The copy's path differs each run: hash it away so a rebuild hits the cache.
        ccache_env=(PATH="/usr/lib/ccache:$PATH" CCACHE_BASEDIR="$tree" CCACHE_NOHASHDIR=1
                    "CCACHE_IGNOREOPTIONS=-ffile-prefix-map=* -fdebug-prefix-map=*")
    fi
    (cd "$tree" && env "${ccache_env[@]}" DEB_BUILD_OPTIONS="parallel=2 nocheck" \
        dpkg-buildpackage -b -us -uc -j2) >"$WORK/dpkg-buildpackage.log" 2>&1 ||
        { tail -n 40 "$WORK/dpkg-buildpackage.log"; fail "dpkg-buildpackage failed"; }
    echo "build: dpkg-buildpackage in $(($(now) - start)) s"
fi
tool_deb=$pkg/kmod-sysext_${version}_amd64.deb
activator_deb=$pkg/kmod-sysext-activator_${version}_amd64.deb
changes=$pkg/kmod-sysext_${version}_amd64.changes
for f in "$tool_deb" "$activator_deb" "$changes"; do
    [ -f "$f" ] || fail "dpkg-buildpackage made no $(basename "$f"): $(ls "$pkg")"
done

# 2. lintian: no error; what it reports is shown.
start=$(now)
status=0
lintian --fail-on error --display-info "$changes" >"$WORK/lintian.log" 2>&1 || status=$?
sed 's/^/lintian: /' "$WORK/lintian.log"
[ "$status" = 0 ] || fail "lintian reports errors"
grep -q "^E: " "$WORK/lintian.log" && fail "lintian reports errors"
echo "lintian: $(grep -c '^W: ' "$WORK/lintian.log" || true) warning(s), no error, in $(($(now) - start)) s"

# 3. What the activator package holds and does.
dpkg-deb -c "$activator_deb" | awk '{print $6}' | grep -v '/$' | sort >"$WORK/activator.files"
sort >"$WORK/activator.expected" <<'FILES'
./lib/systemd/system/kmod-sysext-load.service
./lib/systemd/system/kmod-sysext-prefetch.service
./lib/systemd/system/kmod-sysext-prefetch.timer
./lib/systemd/system/kmod-sysext-select.service
./usr/bin/kmod-sysext-activate
./usr/share/doc/kmod-sysext-activator/changelog.gz
./usr/share/doc/kmod-sysext-activator/copyright
FILES
diff -u "$WORK/activator.expected" "$WORK/activator.files" || fail "kmod-sysext-activator holds other files"
mkdir "$WORK/control"
dpkg-deb -e "$activator_deb" "$WORK/control"
for unit in kmod-sysext-select.service kmod-sysext-load.service; do
    grep -q "deb-systemd-helper enable '$unit'" "$WORK/control/postinst" ||
        fail "the postinst does not enable $unit: $(cat "$WORK/control/postinst")"
done
# --no-enable: the timer is enabled again on upgrade only if the administrator had enabled it.
grep -q "deb-systemd-helper debian-installed 'kmod-sysext-prefetch.timer'" "$WORK/control/postinst" ||
    fail "the postinst may enable the opt-in prefetch timer on a new installation"
dpkg-deb -x "$activator_deb" "$WORK/activator-root"
grep -q "^ExecStart=/usr/bin/kmod-sysext-activate select$" \
    "$WORK/activator-root/lib/systemd/system/kmod-sysext-select.service" ||
    fail "the packaged select unit does not run /usr/bin/kmod-sysext-activate"
echo "contents: activator, four units, doc; select and load enabled by the postinst"

# 4. The tool package on the build host, beside the host's own files.
start=$(now)
depends=$(dpkg-deb -f "$tool_deb" Depends)
apt-get satisfy -s "$depends" >"$WORK/satisfy.log" 2>&1 || { cat "$WORK/satisfy.log"; fail "apt-get satisfy failed"; }
grep -q "^0 upgraded, 0 newly installed" "$WORK/satisfy.log" ||
    { cat "$WORK/satisfy.log"; fail "kmod-sysext's dependencies are not met on this host: $depends"; }
dpkg-deb -x "$tool_deb" "$WORK/tool-root"
packaged=$WORK/tool-root/usr/bin/kmod-sysext
expect_status 0 "$packaged" --version
expect_output "$version"
hello_manifest_with_kernels "$WORK/hello.yaml" "{package: linux-headers-amd64}"
expect_status 0 "$packaged" build "$WORK/hello.yaml" --output "$WORK/out"
image=$(cd "$WORK/out" && ls hello_1.0.0_*.raw)
expect_status 0 "$packaged" inspect "$WORK/out/$image"
expect_output "hello_core"
echo "host: the packaged kmod-sysext built $image in $(($(now) - start)) s"

# 5. The activator package in a Debian 13 guest, booted with hello's images.
start=$(now)
status=0
KSX_ACTIVATOR_DEB=$activator_deb bash "$HERE/boot/test_generation.sh" trixie "$ACTIVATE" "$KSX" "$SRC" ||
    status=$?
[ "$status" = 77 ] && exit 77
[ "$status" = 0 ] || fail "the Debian 13 boot with the packaged activator failed"
echo "guest: Debian 13 booted with the packaged activator in $(($(now) - start)) s"
echo PASS

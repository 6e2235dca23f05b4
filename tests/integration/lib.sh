# Shared helpers for the integration tests (sourced). Each test gets KSX (the CLI binary),
# SRC (the source tree) and a fresh WORK directory removed on success.
set -eu

KSX=${KSX:?path of kmod-sysext}
SRC=${SRC:?source tree}
# Every build compiles and signs for real: the tests check what the compilers and signers make,
# not what an earlier run left in the build cache (test_build_cache.sh turns it on).
export KSX_BUILD_CACHE=${KSX_BUILD_CACHE:-off}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/ksx-it-XXXXXX")
trap 'status=$?; if [ $status -eq 0 ]; then rm -rf "$WORK"; else echo "files kept in $WORK"; fi' EXIT

fail() {
    echo "FAIL: $*" >&2
    exit 1
}

# expect_status WANT CMD... : runs CMD, output to $WORK/last.out, checks the exit status.
expect_status() {
    want=$1
    shift
    set +e
    "$@" >"$WORK/last.out" 2>&1
    got=$?
    set -e
    if [ "$got" != "$want" ]; then
        cat "$WORK/last.out" >&2
        fail "$* exited with $got, expected $want"
    fi
}

expect_output() {
    grep -qF -- "$1" "$WORK/last.out" || { cat "$WORK/last.out" >&2; fail "output lacks: $1"; }
}

# The hello manifest ($HELLO_MANIFEST: manifests/hello.yaml, Debian 13, unless a test needs
# Debian 12's hello-debian12.yaml) with the kernels replaced by "$@" (each a YAML flow item such
# as "{package: linux-headers-amd64}"), next to a copy of manifests/hello: a manifest's local
# paths stay inside its directory.
HELLO_MANIFEST=${HELLO_MANIFEST:-$SRC/manifests/hello.yaml}
hello_manifest_with_kernels() {
    out=$1
    shift
    rm -rf "$(dirname "$out")/hello"
    cp -r "$SRC/manifests/hello" "$(dirname "$out")/hello"
    {
        sed -e '/^kernels:/,/^container:/{/^kernels:/!{/^container:/!d}}' \
            "$HELLO_MANIFEST" | sed -e '/^kernels:/q'
        for k in "$@"; do
            echo "  - $k"
        done
        sed -n '/^container:/,$p' "$HELLO_MANIFEST"
    } >"$out"
}

# Sets SYSUPDATE to a systemd-sysupdate command: the host's, else the one in Debian's
# bookworm-backports systemd package (Debian 12's systemd 252 has none), fetched with apt into
# $WORK with a state of its own (the host's apt configuration is not touched) and run from
# there with its libsystemd-shared.
find_sysupdate() {
    for candidate in "$(command -v systemd-sysupdate || true)" /usr/lib/systemd/systemd-sysupdate \
        /lib/systemd/systemd-sysupdate; do
        if [ -n "$candidate" ] && [ -x "$candidate" ]; then
            SYSUPDATE=$candidate
            return
        fi
    done
    apt_dir="$WORK/apt"
    mkdir -p "$apt_dir/lists/partial" "$apt_dir/archives/partial" "$apt_dir/cache" "$apt_dir/debs"
    echo "deb ${KSX_DEBIAN_MIRROR:-http://deb.debian.org/debian} bookworm-backports main" \
        >"$apt_dir/sources.list"
    set -- -o Dir::Etc::SourceList="$apt_dir/sources.list" -o Dir::Etc::SourceParts=/nonexistent \
        -o Dir::State::Lists="$apt_dir/lists" -o Dir::Cache="$apt_dir/cache" \
        -o Dir::Cache::Archives="$apt_dir/archives" -o APT::Sandbox::User=root
    apt-get -q "$@" update >"$apt_dir/update.log" 2>&1 ||
        { cat "$apt_dir/update.log"; fail "apt-get update for bookworm-backports failed"; }
    (cd "$apt_dir/debs" && apt-get -q "$@" download systemd/bookworm-backports \
        libsystemd-shared/bookworm-backports) >"$apt_dir/download.log" 2>&1 ||
        { cat "$apt_dir/download.log"; fail "no systemd package in bookworm-backports"; }
    for deb in "$apt_dir/debs"/*.deb; do
        dpkg-deb -x "$deb" "$apt_dir/root"
    done
    SYSUPDATE="env LD_LIBRARY_PATH=$apt_dir/root/usr/lib/x86_64-linux-gnu/systemd $apt_dir/root/lib/systemd/systemd-sysupdate"
    $SYSUPDATE --version | head -1
}

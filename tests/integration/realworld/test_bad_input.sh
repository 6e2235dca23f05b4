#!/bin/bash
# Bad input for real-driver manifests, each with one clear error naming the manifest field,
# the kernel and the log file: a package that does not exist, a broken dkms.conf, a patch that
# does not apply, a kernel no source supports (skipped, not an error), and an excluded kernel.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib.sh"
set -o pipefail

# The developer container of the real-driver manifests (cached after their first build);
# "$1" adds a second kernel.
manifest_head() {
    cat <<YAML
apiVersion: kmod-sysext/v1
name: bad
version: 1.0.0
target: {id: debian, version_id: "12", architecture: x86-64}
kernels:
  - package: linux-headers-amd64
${1:+  - package: $1}
container:
  debian:
    suite: bookworm
    components: [main, contrib, non-free, non-free-firmware]
    backports: true
    packages: [patch, file, lsb-release]
YAML
}

# A small DKMS tree: hello's sources with a dkms.conf.
mkdir -p "$WORK/dkms"
cp "$SRC"/manifests/hello/*.c "$SRC"/manifests/hello/Kbuild "$SRC"/manifests/hello/Makefile "$WORK/dkms/"
cat >"$WORK/dkms/dkms.conf" <<'CONF'
PACKAGE_NAME="hello"
PACKAGE_VERSION="1.0"
BUILT_MODULE_NAME[0]="hello_core"
BUILT_MODULE_NAME[1]="hello"
CONF

# 1. A DKMS tree builds; a kernel the sources do not cover is skipped with the reason.
{ manifest_head linux-headers-6.12-amd64; cat <<YAML
sources:
  - path: $WORK/dkms
    kernels: {match: "6.1.*"}
YAML
} >"$WORK/ok.yaml"
expect_status 0 "$KSX" build "$WORK/ok.yaml" --output "$WORK/out" --jobs 1
expect_output "skipped: no source applies to this kernel (sources[0]: match \"6.1.*\")"
ls "$WORK/out"/bad_1.0.0_6.1.*.raw >/dev/null || fail "no image for 6.1"
ls "$WORK/out"/bad_1.0.0_6.12.*.raw >/dev/null 2>&1 && fail "an image for the skipped 6.12"
echo "dkms tree built for 6.1; 6.12 skipped with the reason"

# 2. BUILD_EXCLUSIVE_KERNEL leaves a kernel out, with the rule named.
cp -r "$WORK/dkms" "$WORK/excl"
echo 'BUILD_EXCLUSIVE_KERNEL="^5\."' >>"$WORK/excl/dkms.conf"
{ manifest_head; echo "source: {path: $WORK/excl}"; } >"$WORK/excl.yaml"
expect_status 0 "$KSX" build "$WORK/excl.yaml" --output "$WORK/out-excl" --jobs 1
expect_output "skipped: source dkms.conf: BUILD_EXCLUSIVE_KERNEL=\"^5\\.\" does not match 6.1."
echo "excluded kernel skipped with the BUILD_EXCLUSIVE rule"

# 3. A package that does not exist.
{ manifest_head; echo "source: {path: $WORK/dkms}"; echo "packages: [{apt: ksx-no-such-package}]"; } \
    >"$WORK/nopkg.yaml"
expect_status 2 "$KSX" build "$WORK/nopkg.yaml" --output "$WORK/out2" --jobs 1
expect_output "packages[0].apt: package \"ksx-no-such-package\" cannot be downloaded with the developer container's apt (Unable to locate package ksx-no-such-package); see "
grep -qE "error: kernel 6\.1\.[^:]*: packages\[0\]\.apt: .*; see /.*/build\.log" "$WORK/last.out" ||
    fail "the error does not name the kernel and the log: $(cat "$WORK/last.out")"
echo "missing package: $(grep -o 'error: .*' "$WORK/last.out" | head -c 160)..."

# 4. A broken dkms.conf.
cp -r "$WORK/dkms" "$WORK/broken"
printf 'MAKE[0]="make\nif then\n' >>"$WORK/broken/dkms.conf"
{ manifest_head; echo "source: {path: $WORK/broken}"; } >"$WORK/broken.yaml"
expect_status 2 "$KSX" build "$WORK/broken.yaml" --output "$WORK/out3" --jobs 1
expect_output ": source: dkms.conf cannot be evaluated by bash (exit status "
grep -qE "error: kernel 6\.1\.[^:]*: source: dkms.conf cannot be evaluated by bash \(exit status [0-9]+\); see /.*/build\.log" "$WORK/last.out" ||
    fail "unexpected message: $(cat "$WORK/last.out")"
echo "broken dkms.conf: $(grep -o 'error: .*' "$WORK/last.out" | head -c 160)..."

# 5. A patch that does not apply.
printf -- '--- a/hello.c\n+++ b/hello.c\n@@ -1,1 +1,1 @@\n-no such line\n+x\n' >"$WORK/bad.patch"
{ manifest_head; echo "source: {path: $WORK/dkms, patches: [$WORK/bad.patch]}"; } >"$WORK/patch.yaml"
expect_status 1 "$KSX" build "$WORK/patch.yaml" --output "$WORK/out4" --jobs 1
grep -qE "error: kernel 6\.1\.[^:]*: source\.patches\[0\]: bad\.patch does not apply \(patch exit status 1\); see /.*/build\.log" "$WORK/last.out" ||
    fail "unexpected message: $(cat "$WORK/last.out")"
echo "bad patch: $(grep -o 'error: .*' "$WORK/last.out" | head -c 160)..."
# 6. A url: source whose sha256 does not match what the server sends.
mkdir -p "$WORK/www"
tar -C "$WORK" -czf "$WORK/www/hello-dkms.tar.gz" dkms
port=$((20000 + $$ % 20000))
# Bounded by timeout: a failing check exits without stopping it.
(cd "$WORK/www" && exec timeout 600 python3 -m http.server --bind 127.0.0.1 "$port") \
    >"$WORK/http.log" 2>&1 &
server=$!
sleep 1
zeros=0000000000000000000000000000000000000000000000000000000000000000
{ manifest_head; echo "source: {url: \"http://127.0.0.1:$port/hello-dkms.tar.gz\", sha256: $zeros}"; } \
    >"$WORK/sha.yaml"
expect_status 1 "$KSX" build "$WORK/sha.yaml" --output "$WORK/out5" --jobs 1
grep -qE "error: kernel 6\.1\.[^:]*: source\.url: http://127\.0\.0\.1:$port/hello-dkms\.tar\.gz: sha256 mismatch: expected $zeros, got [0-9a-f]{64}; see /.*/build\.log" "$WORK/last.out" ||
    fail "unexpected message: $(cat "$WORK/last.out")"
ls "${XDG_CACHE_HOME:-$HOME/.cache}/kmod-sysext/downloads/$zeros" >/dev/null 2>&1 &&
    fail "the mismatching download is in the cache under its final name"
echo "sha256 mismatch: $(grep -o 'error: .*' "$WORK/last.out" | head -c 160)..."
kill $server
echo "PASS"

#!/bin/sh
# Bad input exits 2 with file:line:col and writes nothing; a failing build exits 1, names the
# kernel and its log, and leaves no image behind.
. "$(dirname "$0")/lib.sh"

cat >"$WORK/bad.yaml" <<'YAML'
apiVersion: kmod-sysext/v1
name: Hello
YAML
expect_status 2 "$KSX" build "$WORK/bad.yaml" --output "$WORK/out"
expect_output "$WORK/bad.yaml:2:7: error: name:"
[ ! -e "$WORK/out" ] || [ -z "$(ls -A "$WORK/out")" ] || fail "output written for a bad manifest"
expect_status 2 "$KSX" validate "$WORK/bad.yaml"
expect_status 2 "$KSX" build "$WORK/missing.yaml"
expect_status 2 "$KSX" build --jobs 0 "$SRC/manifests/hello.yaml"

# A manifest cannot reach the host's files: a files: entry that is a link to /etc/shadow and a
# source path that climbs out are refused at their position, before anything is built; only
# --allow-path on the command line widens what local paths may reach.
mkdir -p "$WORK/ci"
hello_manifest_with_kernels "$WORK/ci/leak.yaml" "{package: linux-headers-amd64}"
ln -s /etc/shadow "$WORK/ci/shadow"
sed -i 's|source: hello/hello.conf|source: shadow|' "$WORK/ci/leak.yaml"
expect_status 2 "$KSX" build "$WORK/ci/leak.yaml" --output "$WORK/leak-out"
expect_output "leak.yaml:"
expect_output "files[0].source: \"shadow\" leads through a symbolic link to /etc/shadow, outside the manifest's directory"
[ ! -e "$WORK/leak-out" ] || [ -z "$(ls -A "$WORK/leak-out")" ] || fail "output written for a leaking manifest"
hello_manifest_with_kernels "$WORK/ci/climb.yaml" "{package: linux-headers-amd64}"
mkdir -p "$WORK/outside"
cp -r "$SRC/manifests/hello" "$WORK/outside/"
sed -i 's|^  path: hello$|  path: ../outside/hello|' "$WORK/ci/climb.yaml"
expect_status 2 "$KSX" validate "$WORK/ci/climb.yaml"
expect_output "source.path: \"../outside/hello\" is outside the manifest's directory"
expect_status 0 "$KSX" validate "$WORK/ci/climb.yaml" --allow-path "$WORK/outside"

# A NUL byte is reported at its line and column, with the line and a caret.
printf 'apiVersion: kmod-sysext/v1\nname: he\000llo\n' >"$WORK/nul.yaml"
expect_status 2 "$KSX" validate "$WORK/nul.yaml"
expect_output "nul.yaml:2:9: error: a NUL byte: a manifest is UTF-8 text"

# A build command that fails.
hello_manifest_with_kernels "$WORK/fails.yaml" "{package: linux-headers-amd64}"
sed -i 's|^    - make .*|    - echo compiling; exit 3|' "$WORK/fails.yaml"
expect_status 1 "$KSX" build "$WORK/fails.yaml" --output "$WORK/out"
expect_output "fails.yaml: build.commands[0] failed with exit status 3; see "
expect_output "build.log"
log=$(grep -o '/[^ ]*/build.log' "$WORK/last.out" | head -n1)
grep -q compiling "$log" || fail "build log $log lacks the command's output"
[ -z "$(ls -A "$WORK/out")" ] || fail "an image was written although the build failed"

# A module the build does not produce.
hello_manifest_with_kernels "$WORK/nomod.yaml" "{package: linux-headers-amd64}"
sed -i 's|^  - name: hello$|  - name: goodbye|' "$WORK/nomod.yaml"
expect_status 1 "$KSX" build "$WORK/nomod.yaml" --output "$WORK/out"
expect_output "module goodbye: the build did not produce goodbye.ko"
[ -z "$(ls -A "$WORK/out")" ] || fail "an image was written although a module was missing"

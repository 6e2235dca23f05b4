#!/bin/sh
# manifests/multi-release.yaml: one manifest, two OS releases. Debian 12 (bookworm's 6.1 and
# 6.12 lines, the 6.1 one marked unsupported here) and Debian 13 (trixie's 6.12 and
# trixie-backports' 7.x, a kernel from another suite) are built in their own developer
# containers; each image's extension-release carries its target's
# VERSION_ID; `--target` builds one target with the same bytes; the images go into one release
# whose index.json records each image's OS; Ignition is narrowed to one OS release; the
# activator prefetches and selects only what matches a node's os-release.
. "$(dirname "$0")/lib.sh"
ACTIVATE=${ACTIVATE:?path of kmod-sysext-activate}

json() { python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print($2)" "$1"; }

# The example next to a copy of its sources (a manifest's local paths stay inside its
# directory), and 6.1 (bookworm's linux-headers-amd64) marked unsupported.
cp -r "$SRC/manifests/hello" "$WORK/hello"
cp "$SRC/manifests/multi-release.yaml" "$WORK/multi.yaml"
sed -e 's|^source:$|sources:\
  - unsupported: "hello is not built for 6.1 in this test"\
    kernels: {max: "6.11"}\
    targets: [debian-12]\
  - |' -e "s|^  path: hello$|    path: hello|" \
    "$WORK/multi.yaml" >"$WORK/skip61.yaml"

expect_status 0 "$KSX" validate "$WORK/multi.yaml"
expect_output "ok: hello 1.0.0, 2 target(s), 4 kernel(s)"

# 1. The matrix: one entry per target and kernel, resolved in each target's container.
"$KSX" plan --resolve "$WORK/multi.yaml" >"$WORK/plan.json" 2>"$WORK/plan.err"
[ "$(json "$WORK/plan.json" "len(d['include'])")" = 4 ] || fail "plan: not 4 entries"
[ "$(json "$WORK/plan.json" "' '.join(sorted(e['target'] for e in d['include']))")" = \
    "debian-12 debian-12 debian-13 debian-13" ] || fail "plan: targets $(cat "$WORK/plan.json")"
r12=$(json "$WORK/plan.json" \
    "[e['release'] for e in d['include'] if e['entry'] == 'debian-12_package-linux-headers-6.12-amd64'][0]")
r61=$(json "$WORK/plan.json" \
    "[e['release'] for e in d['include'] if e['entry'] == 'debian-12_package-linux-headers-amd64'][0]")
r13=$(json "$WORK/plan.json" \
    "[e['release'] for e in d['include'] if e['entry'] == 'debian-13_package-linux-headers-amd64'][0]")
r7=$(json "$WORK/plan.json" "[e['release'] for e in d['include'] if e['target'] == 'debian-13' \
    and e['kernel'] == 'package:linux-headers-amd64/trixie-backports'][0]")
case "$r12" in *+deb12-amd64) ;; *) fail "debian-12 6.12 resolved to $r12" ;; esac
case "$r61" in 6.1.*) ;; *) fail "debian-12 6.1 resolved to $r61" ;; esac
case "$r13" in 6.12.*+deb13-amd64) ;; *) fail "debian-13 resolved to $r13" ;; esac
case "$r7" in 7.*-amd64) ;; *) fail "debian-13 trixie-backports resolved to $r7" ;; esac
echo "kernels: debian-12 $r61 $r12, debian-13 $r13 $r7"

# The unsupported kernel is left out of the matrix, with its reason.
"$KSX" plan --resolve "$WORK/skip61.yaml" >"$WORK/plan-skip.json" 2>"$WORK/plan-skip.err"
[ "$(json "$WORK/plan-skip.json" "len(d['include'])")" = 3 ] || fail "plan: skipped kernel kept"
[ "$(json "$WORK/plan-skip.json" "d['skipped'][0]['reason']")" = \
    "hello is not built for 6.1 in this test" ] || fail "plan: no skipped entry"
grep -qF "plan: skipped debian-12_package-linux-headers-amd64: kernel $r61 (target debian-12): hello is not built for 6.1 in this test" \
    "$WORK/plan-skip.err" || { cat "$WORK/plan-skip.err"; fail "plan: no skip line"; }

# 2. Every target: 6.1 skipped with one line, exit 0, one image per other kernel.
expect_status 0 "$KSX" build "$WORK/skip61.yaml" --output "$WORK/out" --jobs 2
[ "$(grep -cF "kernel $r61 (target debian-12): skipped: hello is not built for 6.1 in this test" \
    "$WORK/last.out")" = 1 ] || { cat "$WORK/last.out"; fail "not one skip line for $r61"; }
expect_output "built 3 image(s)"
[ "$(ls "$WORK/out" | grep -c '\.raw$')" = 3 ] || fail "not 3 images: $(ls "$WORK/out")"

# 3. Each image's extension-release is its own target's.
check_release() { # IMAGE VERSION_ID KERNEL
    unsquashfs -cat "$1" usr/lib/extension-release.d/extension-release.hello >"$WORK/release.txt"
    for line in "ID=debian" "VERSION_ID=$2" "ARCHITECTURE=x86-64" "KMOD_SYSEXT_KERNEL=$3"; do
        grep -qx "$line" "$WORK/release.txt" ||
            { cat "$WORK/release.txt"; fail "$1: no $line in its extension-release"; }
    done
}
check_release "$WORK/out/hello_1.0.0_$r12.raw" 12 "$r12"
check_release "$WORK/out/hello_1.0.0_$r13.raw" 13 "$r13"
check_release "$WORK/out/hello_1.0.0_$r7.raw" 13 "$r7"
# Each image's modules are built against its own kernel's headers.
check_vermagic() { # IMAGE KERNEL
    rm -rf "$WORK/x"
    unsquashfs -q -n -d "$WORK/x" "$1" "usr/lib/modules/$2" >/dev/null
    for ko in "$WORK/x/usr/lib/modules/$2/extra/hello"/hello_core.ko* \
        "$WORK/x/usr/lib/modules/$2/extra/hello"/hello.ko*; do
        [ -f "$ko" ] || fail "$1: no $ko"
        magic=$(modinfo -F vermagic "$ko")
        [ "${magic%% *}" = "$2" ] || fail "$ko has vermagic '$magic', not $2"
    done
}
for k in "$r12" "$r13" "$r7"; do check_vermagic "$WORK/out/hello_1.0.0_$k.raw" "$k"; done

# 4. --target builds that target alone, byte for byte the same image; --only one entry.
expect_status 0 "$KSX" build "$WORK/multi.yaml" --target debian-13 --output "$WORK/out13"
expect_output "built 2 image(s)"
for k in "$r13" "$r7"; do
    cmp "$WORK/out13/hello_1.0.0_$k.raw" "$WORK/out/hello_1.0.0_$k.raw" ||
        fail "--target debian-13 built other bytes for $k"
done
expect_status 0 "$KSX" build "$WORK/skip61.yaml" --only debian-12_package-linux-headers-amd64 \
    --output "$WORK/out61"
expect_output "kernel $r61 (target debian-12): skipped: hello is not built for 6.1 in this test"
[ -z "$(ls "$WORK/out61")" ] || fail "--only of an unsupported kernel wrote $(ls "$WORK/out61")"
expect_status 2 "$KSX" build "$WORK/multi.yaml" --target debian-14 --output "$WORK/none"
expect_output "--target: multi.yaml has no target \"debian-14\" (targets: debian-12, debian-13)"
expect_status 2 "$KSX" build "$WORK/multi.yaml" --kernel "$r13" --output "$WORK/none"
expect_output "--kernel: multi.yaml has 2 targets: name the one to build for with --target"

# 5. One release for both OS releases; index.json records each image's identity.
cp "$ACTIVATE" "$WORK/kmod-sysext-activate"
expect_status 0 "$KSX" publish --from "$WORK/out" --to "$WORK/release" \
    --base-url http://127.0.0.1:1/hello --activator "$WORK/kmod-sysext-activate"
for pair in "$r12 12" "$r13 13" "$r7 13"; do
    set -- $pair
    got=$(json "$WORK/release/index.json" \
        "[(i['os']['id'], i['os']['version_id'], i['architecture']) for i in d['images'] if i['kernel'] == '$1']")
    [ "$got" = "[('debian', '$2', 'x86-64')]" ] || fail "index.json: $1 has $got"
    grep -qx "MatchPattern=hello_@v_$1.raw" "$WORK/release/sysupdate.d/$1/hello.transfer" ||
        fail "no transfer for $1"
done

# 6. Ignition for one OS release of the release.
expect_status 0 "$KSX" ignition "$WORK/release" --base-url http://127.0.0.1:1/hello \
    --output "$WORK/all.ign"
expect_output "are for several OS releases (debian 12 x86-64, debian 13 x86-64): the node gets all of them"
expect_status 0 "$KSX" ignition "$WORK/release" --base-url http://127.0.0.1:1/hello \
    --os-id debian --os-version 13 --output "$WORK/node13.ign"
grep -qF "hello_1.0.0_$r13.raw" "$WORK/node13.ign" || fail "ignition: no Debian 13 image"
grep -qF "hello_1.0.0_$r7.raw" "$WORK/node13.ign" || fail "ignition: no Debian 13 $r7 image"
! grep -qF "hello_1.0.0_$r12.raw" "$WORK/node13.ign" || fail "ignition: a Debian 12 image"

# 7. A Debian 13 node fetches and selects only the Debian 13 image.
node=$WORK/node13
mkdir -p "$node/etc" "$node/usr/lib/modules/$r12/kernel" "$node/usr/lib/modules/$r13/kernel" \
    "$node/usr/lib/modules/$r7/kernel"
printf 'ID=debian\nVERSION_ID="13"\n' >"$node/etc/os-release"
expect_status 0 "$ACTIVATE" prefetch --root="$node" --kernel="$r13" --all-kernels \
    --from "$WORK/release"
expect_output "not fetching hello_1.0.0_$r12.raw: built for VERSION_ID=12, the host has 13"
[ -f "$node/var/lib/kmod-sysext/hello/hello_1.0.0_$r13.raw" ] || fail "prefetch: no $r13 image"
[ -f "$node/var/lib/kmod-sysext/hello/hello_1.0.0_$r7.raw" ] || fail "prefetch: no $r7 image"
[ ! -e "$node/var/lib/kmod-sysext/hello/hello_1.0.0_$r12.raw" ] || fail "prefetch: fetched $r12"
# A Debian 12 image put into its store anyway is passed over by select, with one line.
cp "$WORK/out/hello_1.0.0_$r12.raw" "$node/var/lib/kmod-sysext/hello/"
expect_status 0 "$ACTIVATE" select --root="$node" --kernel="$r12"
expect_output "ignoring hello_1.0.0_$r12.raw: built for VERSION_ID=12, the host has 13"
[ ! -e "$node/run/extensions/hello.raw" ] || fail "select linked an image for Debian 12"
expect_status 0 "$ACTIVATE" select --root="$node" --kernel="$r13"
[ "$(readlink "$node/run/extensions/hello.raw")" = \
    "/var/lib/kmod-sysext/hello/hello_1.0.0_$r13.raw" ] || fail "select did not link $r13"
echo "ok"

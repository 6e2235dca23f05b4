#!/bin/sh
# The build cache: hello built twice, the second run takes the image set from the cache without
# running anything in the container (so no compiler), byte for byte the same; a changed source
# file misses and rebuilds; `cache list` shows the entries.
. "$(dirname "$0")/lib.sh"
export KSX_BUILD_CACHE=on

mkdir -p "$WORK/m"
hello_manifest_with_kernels "$WORK/m/hello.yaml" "{package: linux-headers-amd64}"
# A certificate of this run's own: the entries it makes are new ones, whatever the cache holds.
expect_status 0 "$KSX" keygen --out "$WORK/keys" --cn "kmod-sysext build cache test"

build() { # OUTPUT [extra args]: the --json record in OUTPUT.json
    build_with "$WORK/keys" "$@"
}
build_with() { # KEYS OUTPUT [extra args]
    keys=$1
    out=$2
    shift 2
    "$KSX" build --json "$WORK/m/hello.yaml" --output "$out" --sign-key "$keys/key.pem" \
        --sign-cert "$keys/cert.pem" "$@" >"$out.json" 2>"$out.err" ||
        { cat "$out.err" >&2; fail "the build into $out failed"; }
}

# field FILE EXPR: a value of the --json record ("r" is the record).
field() {
    python3 -c 'import json, sys; r = json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$1" "$2"
}

build "$WORK/first"
[ "$(field "$WORK/first.json" 'r["images"][0]["build_cache"]')" = miss ] ||
    fail "the first build did not miss"
[ "$(field "$WORK/first.json" 'r["container_runs"] > 0')" = True ] ||
    fail "the first build ran nothing in the container"

build "$WORK/second"
[ "$(field "$WORK/second.json" 'r["images"][0]["build_cache"]')" = hit ] || fail "no hit"
[ "$(field "$WORK/second.json" 'r["build_cache_hits"]')" = 1 ] || fail "hits not counted"
[ "$(field "$WORK/second.json" 'r["container_runs"]')" = 0 ] ||
    fail "the build cache hit still ran commands in the container"
compared=0
for f in "$WORK/first"/*; do
    name=$(basename "$f")
    cmp "$f" "$WORK/second/$name" || fail "$name differs between the build and the cache hit"
    compared=$((compared + 1))
done
[ "$compared" = 4 ] || fail "expected an image and 3 sidecars, compared $compared files"
ls -A "$WORK/second" | grep -q staging && fail "a staging directory was left"
# The record names this run's files.
[ "$(field "$WORK/second.json" 'r["images"][0]["path"]')" = "$(ls "$WORK/second"/*.raw)" ] ||
    fail "the hit's record names another path"
"$KSX" verify "$WORK/second"/*.raw --cert "$WORK/keys/cert.pem" >/dev/null 2>&1 ||
    fail "the restored set does not verify"

# --no-cache compiles again, and gives the same bytes.
build "$WORK/forced" --no-cache
[ "$(field "$WORK/forced.json" 'r["images"][0]["build_cache"]')" = off ] || fail "--no-cache hit"
[ "$(field "$WORK/forced.json" 'r["container_runs"] > 0')" = True ] || fail "--no-cache ran nothing"
cmp "$WORK/first"/*.raw "$WORK/forced"/*.raw || fail "--no-cache built other bytes"

# A changed source file: a miss, and other bytes.
echo "/* changed */" >>"$WORK/m/hello/hello.c"
build "$WORK/changed"
[ "$(field "$WORK/changed.json" 'r["images"][0]["build_cache"]')" = miss ] ||
    fail "a changed source file still hit"
[ "$(field "$WORK/changed.json" 'r["container_runs"] > 0')" = True ] ||
    fail "the changed source was not built"
# Another certificate: a miss too (the modules carry its signature).
expect_status 0 "$KSX" keygen --out "$WORK/keys2" --cn "kmod-sysext build cache test 2"
build_with "$WORK/keys2" "$WORK/cert2"
[ "$(field "$WORK/cert2.json" 'r["images"][0]["build_cache"]')" = miss ] ||
    fail "another signing certificate still hit"

# The entries are listed.
"$KSX" cache list --json >"$WORK/list.json" || fail "cache list failed"
grep -q '"kind": "build"' "$WORK/list.json" || fail "cache list shows no build entry"

echo "PASS: build cache hit without container runs, $compared files byte-identical; misses on changed source and certificate"

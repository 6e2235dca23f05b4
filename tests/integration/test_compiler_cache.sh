#!/bin/sh
# ccache in the developer container keeps builds reproducible: hello built with an empty
# compiler cache, with the cache it filled (every compilation a hit) and without ccache gives
# the same image bytes.
. "$(dirname "$0")/lib.sh"

mkdir -p "$WORK/m"
hello_manifest_with_kernels "$WORK/m/hello.yaml" "{package: linux-headers-amd64}"

build() { # OUTPUT COMPILER_CACHE
    KSX_COMPILER_CACHE=$2 "$KSX" build --json "$WORK/m/hello.yaml" --output "$1" --no-cache \
        >"$1.json" 2>"$1.err" || { cat "$1.err" >&2; fail "the build into $1 failed"; }
}
stat_of() { # JSON FIELD
    python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["images"][0]["compiler_cache"][sys.argv[2]])' "$1" "$2"
}

build "$WORK/cold" "$WORK/ccache"
[ "$(stat_of "$WORK/cold.json" hits)" = 0 ] || fail "an empty compiler cache had hits"
misses=$(stat_of "$WORK/cold.json" misses)
[ "$misses" -gt 0 ] || fail "nothing was compiled through ccache"

build "$WORK/warm" "$WORK/ccache"
hits=$(stat_of "$WORK/warm.json" hits)
[ "$hits" = "$misses" ] || fail "the warm cache answered $hits of $misses compilations"
[ "$(stat_of "$WORK/warm.json" misses)" = 0 ] || fail "the warm cache missed"

build "$WORK/plain" off
python3 -c 'import json, sys; sys.exit("compiler_cache" in json.load(open(sys.argv[1]))["images"][0])' \
    "$WORK/plain.json" || fail "KSX_COMPILER_CACHE=off still used ccache"

image=$(basename "$WORK/cold"/*.raw)
cmp "$WORK/cold/$image" "$WORK/warm/$image" || fail "a warm compiler cache changed the image"
cmp "$WORK/cold/$image" "$WORK/plain/$image" || fail "ccache changed the image"
echo "PASS: $misses compilations cached, $hits hits when warm; image identical cold, warm and without ccache"

#!/bin/sh
# Signed rebuilds killed (SIGKILL) at random moments, mostly while the
# image is packed and signed: into a directory holding an older signed set of the same names and
# into an empty one. After every kill each set must verify and be either the complete old set
# or the complete new set (a missing set in the empty directory counts as the old one); mixed
# sets seen must be 0. A following successful run must leave no litter: only the images and
# sidecars in the output directory, no work directory in the cache.
# KSX_KILL_SEED picks other moments; KSX_KILL_CASES another count (default 32).
. "$(dirname "$0")/lib.sh"

seed=${KSX_KILL_SEED:-1515}
cases=${KSX_KILL_CASES:-32}

# A cache of our own (work directories counted exactly) sharing the cached developer
# containers of the real one.
shared=${XDG_CACHE_HOME:-$HOME/.cache}/kmod-sysext
mkdir -p "$shared/containers" "$WORK/cache/kmod-sysext"
ln -s "$shared/containers" "$WORK/cache/kmod-sysext/containers"
export XDG_CACHE_HOME="$WORK/cache"
work_dirs="$WORK/cache/kmod-sysext/work"

expect_status 0 "$KSX" keygen --out "$WORK/old-key" --cn "kmod-sysext old set"
expect_status 0 "$KSX" keygen --out "$WORK/new-key" --cn "kmod-sysext new set"
hello_manifest_with_kernels "$WORK/hello.yaml" "{package: linux-headers-amd64}"
# Same names, other bytes: the old set's module option differs.
sed -e 's/hello from kmod-sysext/hello from the old set/' "$WORK/hello.yaml" >"$WORK/old.yaml"
grep -q "hello from the old set" "$WORK/old.yaml" || fail "old manifest unchanged"

build_new() { # OUTPUT [extra args]
    out=$1
    shift
    "$KSX" build "$WORK/hello.yaml" --output "$out" \
        --sign-key "$WORK/new-key/key.pem" --sign-cert "$WORK/new-key/cert.pem" "$@"
}

expect_status 0 "$KSX" build --quiet "$WORK/old.yaml" --output "$WORK/old-set" \
    --sign-key "$WORK/old-key/key.pem" --sign-cert "$WORK/old-key/cert.pem"
# packing_started DIR PID: waits until the run writes its first hidden entry into DIR (the image
# being written: today a staging directory, earlier a temp file) or ends. Output is no clock:
# it is buffered until the run exits.
packing_started() {
    until ls -A "$1" 2>/dev/null | grep -qv -e '^[^.]' -e '^$'; do
        kill -0 "$2" 2>/dev/null || return 0
        sleep 0.01
    done
}

# The reference new set, timed: the whole run, and from the start of packing to its end.
mkdir "$WORK/new-set"
start=$(date +%s.%N)
build_new "$WORK/new-set" >"$WORK/ref.out" 2>&1 &
pid=$!
packing_started "$WORK/new-set" $pid
packing=$(date +%s.%N)
wait $pid || { cat "$WORK/ref.out"; fail "reference build failed"; }
end=$(date +%s.%N)
total=$(echo "$end - $start" | bc)
pack=$(echo "$end - $packing" | bc)
echo "reference build: ${total}s, packing and signing: ${pack}s"

image_name=$(cd "$WORK/new-set" && ls *.raw)
old_hash=$(cat "$WORK/old-set/${image_name%.raw}.roothash")
new_hash=$(cat "$WORK/new-set/${image_name%.raw}.roothash")
[ "$old_hash" != "$new_hash" ] || fail "old and new sets are the same"
ls "$WORK/old-set" | sort >"$WORK/set-files"

# verify_set DIR: prints old, new, none or mixed (and why) for the set in DIR.
verify_set() {
    dir=$1
    if [ ! -e "$dir/$image_name" ] && [ -z "$(ls "$dir" 2>/dev/null)" ]; then
        echo none
        return
    fi
    if ! "$KSX" verify "$dir/$image_name" --cert "$WORK/old-key/cert.pem" \
        --cert "$WORK/new-key/cert.pem" >"$WORK/verify.out" 2>&1; then
        echo "mixed: $(grep -v '^ok' "$WORK/verify.out" | head -3 | tr '\n' ' ')"
        return
    fi
    case $(cat "$dir/${image_name%.raw}.roothash") in
    "$old_hash") echo old ;;
    "$new_hash") echo new ;;
    *) echo "mixed: unknown root hash" ;;
    esac
}

# Random moments from the seed: three kills in four during packing (a random point of the
# measured packing time after packing started), the rest anywhere in the run.
awk -v seed="$seed" -v n="$cases" -v total="$total" -v pack="$pack" 'BEGIN {
    srand(seed)
    for (i = 1; i <= n; i++) {
        if (i % 4 == 0) printf "run %.3f\n", rand() * total
        else printf "pack %.3f\n", rand() * pack * 1.1
    }
}' >"$WORK/moments"

mixed=0
i=0
old_seen=0
new_seen=0
none_seen=0
while read -r phase delay; do
    i=$((i + 1))
    dir="$WORK/try-$i"
    if [ $((i % 2)) -eq 1 ]; then
        cp -a "$WORK/old-set" "$dir" # an older signed set of the same names
    else
        mkdir "$dir"
    fi
    # Not through build_new: $! must be kmod-sysext itself, not a subshell.
    "$KSX" build "$WORK/hello.yaml" --output "$dir" --sign-key "$WORK/new-key/key.pem" \
        --sign-cert "$WORK/new-key/cert.pem" >"$WORK/run.out" 2>&1 &
    pid=$!
    if [ "$phase" = pack ]; then
        packing_started "$dir" $pid
    fi
    sleep "$delay"
    # The build's sandboxed commands die with it (bubblewrap --die-with-parent).
    kill -KILL $pid 2>/dev/null || true
    wait $pid 2>/dev/null || true
    state=$(verify_set "$dir")
    echo "kill $i ($phase +${delay}s, $([ $((i % 2)) -eq 1 ] && echo "over the old set" || echo "empty dir")): $state"
    case $state in
    old) old_seen=$((old_seen + 1)) ;;
    new) new_seen=$((new_seen + 1)) ;;
    none) none_seen=$((none_seen + 1)) ;;
    *) mixed=$((mixed + 1)) ;;
    esac
    # Every fourth directory: a run that completes, then nothing but the set may remain.
    if [ $((i % 4)) -eq 0 ] || [ "$i" -eq "$cases" ]; then
        expect_status 0 build_new "$dir" --quiet
        [ "$(verify_set "$dir")" = new ] || fail "the run after kill $i did not leave the new set"
        ls -A "$dir" | sort >"$WORK/left"
        cmp -s "$WORK/left" "$WORK/set-files" ||
            fail "litter in $dir after a successful run: $(comm -13 "$WORK/set-files" "$WORK/left" | tr '\n' ' ')"
        [ -z "$(ls -A "$work_dirs")" ] ||
            fail "work directories left in the cache after a successful run: $(ls -A "$work_dirs")"
    fi
done <"$WORK/moments"

echo "$i kills: $old_seen old sets, $new_seen new sets, $none_seen none yet, $mixed mixed"
[ "$i" -ge 30 ] || fail "only $i kills"
[ "$mixed" -eq 0 ] || fail "$mixed mixed sets"
# The kills must have hit both sides of the commit.
[ "$new_seen" -gt 0 ] || fail "no kill came after a commit"
[ $((old_seen + none_seen)) -gt 0 ] || fail "no kill came before a commit"

# `cache list` shows the shared containers through the link; nothing of ours is in use now.
expect_status 0 "$KSX" cache list
expect_output "entries, "
expect_status 0 "$KSX" cache list --json
grep -q '"in_use": true' "$WORK/last.out" && fail "cache entries in use after every run ended"
echo "ok"

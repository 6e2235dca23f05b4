#!/bin/sh
# ci/examples/gitlab-ci.yml, unchanged, run by gitlab-ci-local (shell executor, each job in its
# own copy of the project with --shell-isolation, as a runner would): `plan` writes the child
# pipeline, the trigger job runs it, one build job per kernel of hello (Debian 12's 6.1 and 6.12
# lines) builds a signed shard, `kmod-sysext-publish` merges them into a release. The release
# is checked here, apart from the pipeline's own checks: SHA256SUMS, index.json against the
# plan, `kmod-sysext verify` of each image, the base URL forwarded to the child. A second run
# takes every shard from the cache (no build) and publishes the same release.
HELLO_MANIFEST=${SRC:?source tree}/manifests/hello-debian12.yaml
. "$(dirname "$0")/lib.sh"

for tool in git rsync; do
    command -v "$tool" >/dev/null || fail "$tool is not installed (scripts/setup installs it)"
done
tools=$(sh "$SRC/tests/integration/npm_tools.sh") || fail "could not install gitlab-ci-local"
now() { date +%s; }

project=$WORK/project
mkdir -p "$project/manifests" "$WORK/bin"
hello_manifest_with_kernels "$project/manifests/hello.yaml" \
    "{package: linux-headers-amd64}" "{package: linux-headers-6.12-amd64}"
cp "$SRC/ci/examples/gitlab-ci.yml" "$project/.gitlab-ci.yml"
expect_status 0 "$KSX" keygen --out "$WORK/key" --cn "kmod-sysext gitlab test" --name ksx-gitlab
# The project's CI/CD variables (File variables are paths on the runner) and Pages URL.
cat >"$project/.gitlab-ci-local-variables.yml" <<VARS
KMOD_SYSEXT_SIGN_KEY: $WORK/key/key.pem
KMOD_SYSEXT_SIGN_CERT: $WORK/key/cert.pem
CI_PAGES_URL: https://example.gitlab.io/kmod-sysext
VARS
(cd "$project" && git init -q && git add manifests .gitlab-ci.yml &&
    git -c user.name=test -c user.email=test@example.org commit -qm "hello") ||
    fail "git commit failed"
# The runner's kmod-sysext is the one under test.
ln -s "$KSX" "$WORK/bin/kmod-sysext"

# run NAME: the whole pipeline; its log in $WORK/NAME.log. Artifacts stay in gitlab-ci-local's
# state directory (not copied into the project), so only the cache can carry a shard over.
run() {
    start=$(now)
    (cd "$project" && PATH=$WORK/bin:$PATH "$tools/gitlab-ci-local" --shell-isolation \
        --no-artifacts-to-source --no-color) >"$WORK/$1.log" 2>&1 ||
        { tail -n 60 "$WORK/$1.log"; fail "gitlab-ci-local ($1) failed, log in $WORK/$1.log"; }
    echo "$1: pipeline in $(($(now) - start)) s"
}
count() { grep -c -- "$1" "$WORK/$2.log" || true; }

# check_release NAME: the published release, read back.
check_release() {
    release=$project/.gitlab-ci-local/artifacts/kmod-sysext-publish/release
    [ -f "$release/SHA256SUMS" ] || fail "$1: no release/SHA256SUMS among the publish job's artifacts"
    (cd "$release" && sha256sum --check --strict --quiet SHA256SUMS) || fail "$1: SHA256SUMS does not match"
    # Every kernel of the plan has its image in index.json, listed in SHA256SUMS and verified.
    python3 - "$release/index.json" "$WORK/plan.json" <<'PY' >"$WORK/$1.images" || fail "$1: index.json does not match the plan"
import json, sys
index, plan = (json.load(open(p)) for p in sys.argv[1:])
kernels = sorted(e["release"] for e in plan["include"])
images = sorted(i["kernel"] for i in index["images"])
if kernels != images or len(kernels) != 2:
    sys.exit(f"index.json has {images}, the plan {kernels}")
for i in index["images"]:
    if i["signer"] != "CN=kmod-sysext gitlab test":
        sys.exit(f"{i['file']}: signer {i['signer']}")
    print(i["file"])
PY
    while read -r image; do
        grep -q "  $image\$" "$release/SHA256SUMS" || fail "$1: $image is not in SHA256SUMS"
        expect_status 0 "$KSX" verify "$release/$image" --cert "$WORK/key/cert.pem"
        expect_output "verified"
    done <"$WORK/$1.images"
    grep -rq "^Path=https://example.gitlab.io/kmod-sysext/hello\$" "$release/sysupdate.d" ||
        fail "$1: the transfers do not use the base URL from CI_PAGES_URL"
}

# The plan, with the kernels resolved as the pipeline's plan job resolves them.
"$KSX" plan "$project/manifests/hello.yaml" --resolve --sign-cert "$WORK/key/cert.pem" \
    >"$WORK/plan.json" 2>"$WORK/plan.err" || { cat "$WORK/plan.err"; fail "kmod-sysext plan failed"; }

run cold
grep -q "PASS  images" "$WORK/cold.log" || fail "cold: the trigger job did not pass"
grep -q "PASS  .*kmod-sysext-publish" "$WORK/cold.log" || fail "cold: the publish job did not pass"
[ "$(count 'PASS  .*kmod-sysext-build: ' cold)" = 2 ] || fail "cold: expected two build jobs"
[ "$(count '> built 1 image(s)' cold)" = 2 ] || fail "cold: expected two builds"
[ "$(count '> kmod-sysext: cached shard for ' cold)" = 0 ] || fail "cold: a shard came from an empty cache"
check_release cold
cp "$release/SHA256SUMS" "$WORK/cold.sums"
echo "cold: two build jobs, release of $(wc -l <"$WORK/cold.images") images verified"

run warm
[ "$(count 'PASS  .*kmod-sysext-build: ' warm)" = 2 ] || fail "warm: expected two build jobs"
[ "$(count 'imported cache' warm)" = 2 ] || fail "warm: expected two cache imports"
[ "$(count '> kmod-sysext: cached shard for ' warm)" = 2 ] || fail "warm: expected two cached shards"
[ "$(count '> built 1 image(s)' warm)" = 0 ] || fail "warm: a build ran with the cache warm"
check_release warm
cmp -s "$WORK/cold.sums" "$release/SHA256SUMS" || fail "warm: the release differs from the cold run's"
echo "warm: both shards from the cache, no build, the same release"
echo PASS

#!/bin/sh
# ci/examples/github-workflow.yml against GitHub's workflow schema (action-validator, from npm,
# pinned in npm/package-lock.json; it runs offline once installed). Only the structure is
# checked: no job runs, so the actions (checkout, cache, upload/download-artifact), secrets,
# the runners and `kmod-sysext plan --format github` feeding the matrix through $GITHUB_OUTPUT
# are not exercised here (test_publish.sh checks the matrix line `plan` prints).
# A copy with one misspelt key must be refused, so the check is known to bite.
. "$(dirname "$0")/lib.sh"

tools=$(sh "$SRC/tests/integration/npm_tools.sh") || fail "could not install action-validator"
workflow=$SRC/ci/examples/github-workflow.yml

# The checker reads any file not named action.yml as a workflow; it prints only errors.
expect_status 0 "$tools/action-validator" "$workflow"
[ ! -s "$WORK/last.out" ] || { cat "$WORK/last.out"; fail "action-validator printed errors"; }

mkdir -p "$WORK/.github/workflows"
sed 's/^    runs-on: /    runs_on: /' "$workflow" >"$WORK/.github/workflows/broken.yml"
cmp -s "$workflow" "$WORK/.github/workflows/broken.yml" && fail "the workflow has no runs-on to misspell"
expect_status 1 "$tools/action-validator" "$WORK/.github/workflows/broken.yml"
expect_output '"actionType": "workflow"'
expect_output "Additional property 'runs_on' is not allowed"
echo PASS

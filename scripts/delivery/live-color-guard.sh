#!/usr/bin/env bash
# Refuses to deploy a commit that would switch an app's live color back: compares the live
# `apps.<app>.active_color` outputs of STACK with this commit's offline render (RENDERED, an
# outputs.json from `python -m infra.offline.render`). A cutover changes the live color first and opens
# a release PR; until that PR is merged, main still names the old color.
# Fails closed: only a stack that has no outputs yet (never deployed) passes without a
# comparison. `pulumi stack output --json` without a name prints every output, `{}` when there
# are none, and exits non-zero on any backend, login, permission or decryption error
# (pulumi/pulumi pkg/cmd/pulumi/stack/stack_output.go at 1b59498); asking for the `apps` output
# by name would fail on a new stack too, which is why the error must not be swallowed.
#   usage: live-color-guard.sh STACK RENDERED_OUTPUTS_JSON
set -euo pipefail
stack=${1:?usage: live-color-guard.sh STACK RENDERED_OUTPUTS_JSON}
rendered=${2:?usage: live-color-guard.sh STACK RENDERED_OUTPUTS_JSON}
summary=${GITHUB_STEP_SUMMARY:-/dev/null}
errors=$(mktemp)
trap 'rm -f "$errors"' EXIT

fail() {  # title, detail, [what to do]
  {
    echo "### Not deployed: $1"
    echo
    echo '```'
    echo "$2"
    echo '```'
    echo "${3:-}"
  } >> "$summary"
  echo "::error title=$1::$(echo "$2" | tr '\n' ' ')"
  exit 1
}

if ! live=$(pulumi stack output --json --stack "$stack" 2>"$errors"); then
  fail "cannot read the live outputs of $stack" "$(cat "$errors")"
fi
if ! jq -e 'type == "object"' >/dev/null 2>&1 <<<"$live"; then
  fail "the live outputs of $stack are not a JSON object" "$live"
fi
if [ "$(jq 'length' <<<"$live")" -eq 0 ]; then
  echo "$stack has no outputs yet (never deployed): nothing live to protect"
  exit 0
fi
if ! drift=$(jq -r --argjson live "$live" '
  .apps // {} | to_entries[]
  | ($live.apps[.key].active_color // null) as $now
  | select($now != null and $now != .value.active_color)
  | "\(.key): live \($now), this commit \(.value.active_color)"
' "$rendered" 2>"$errors"); then
  fail "cannot compare the live colors of $stack with $rendered" "$(cat "$errors")"
fi
if [ -n "$drift" ]; then
  fail "this commit would switch colors back on $stack" "$drift" \
    "A cutover changed the live color and its release PR is not merged. Merge that PR (or run the cutover workflow again to pick the color), then re-run this deploy."
fi
echo "live colors of $stack match this commit"

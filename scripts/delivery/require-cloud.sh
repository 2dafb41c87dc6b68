#!/usr/bin/env bash
# Fails the job, loudly, when the GitHub environment it runs in lacks what a preview or deploy
# needs: the Workload Identity provider, the environment's service account (the variable named
# by $1: GCP_PREVIEW_SERVICE_ACCOUNT or GCP_DEPLOY_SERVICE_ACCOUNT) and a Pulumi backend
# (PULUMI_ACCESS_TOKEN or PULUMI_BACKEND_URL). It runs inside the environment-bound job, so
# environment secrets and variables count; a job that cannot deploy never reports success.
#   usage: require-cloud.sh SERVICE_ACCOUNT_VARIABLE ENVIRONMENT
set -euo pipefail
account_var=${1:?usage: require-cloud.sh SERVICE_ACCOUNT_VARIABLE ENVIRONMENT}
environment=${2:?usage: require-cloud.sh SERVICE_ACCOUNT_VARIABLE ENVIRONMENT}
missing=()
[ -n "${GCP_WORKLOAD_IDENTITY_PROVIDER:-}" ] || missing+=("variable GCP_WORKLOAD_IDENTITY_PROVIDER")
[ -n "${!account_var:-}" ] || missing+=("variable $account_var")
[ -n "${PULUMI_ACCESS_TOKEN:-}${PULUMI_BACKEND_URL:-}" ] \
  || missing+=("secret PULUMI_ACCESS_TOKEN or variable PULUMI_BACKEND_URL")
if [ "${#missing[@]}" -gt 0 ]; then
  list=$(printf '%s, ' "${missing[@]}")
  list=${list%, }
  {
    echo "### Not run: environment \`$environment\` lacks cloud credentials"
    echo
    echo "Missing: $list. Set them on the environment (docs/delivery.md, Repository setup)."
  } >> "${GITHUB_STEP_SUMMARY:-/dev/null}"
  echo "::error title=No cloud credentials in environment $environment::missing $list"
  exit 1
fi
echo "environment $environment: Workload Identity provider, $account_var and a Pulumi backend are set"

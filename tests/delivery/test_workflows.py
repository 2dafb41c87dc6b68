"""The GitHub workflows: actionlint and zizmor clean (and able to fail), and the delivery rules
they encode: trust boundaries (a pull request never gets a deploy identity and is judged by the
base branch's policy pack), the deploy queue (nothing requested is cancelled), release PRs that
trigger checks, and code owners on what guards production."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.delivery.renders import ROOT, stacks
from tests.delivery.workflows import (
    WORKFLOWS,
    action,
    steps,
    strings,
    workflow,
    workflow_files,
)
from tests.prerequisites import unavailable

ACTIONLINT = ROOT / ".venv-tools" / "bin" / "actionlint"
ZIZMOR = ROOT / ".venv-tools" / "bin" / "zizmor"


def actionlint(cwd: Path, *files: str) -> subprocess.CompletedProcess[str]:
    if not ACTIONLINT.exists():
        unavailable(".venv-tools/bin/actionlint is missing: run scripts/install.sh")
    # actionlint checks `run:` scripts only when shellcheck is on PATH: without it a clean run
    # would prove nothing about them.
    if shutil.which("shellcheck") is None:
        unavailable("shellcheck is missing: run scripts/install.sh")
    return subprocess.run(
        [str(ACTIONLINT), "-no-color", *files],
        check=False,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_every_workflow_passes_actionlint() -> None:
    proc = actionlint(ROOT)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    present = {p.name for p in WORKFLOWS.glob("*.yml")}
    required = {
        "checks.yml",
        "cutover.yml",
        "deploy.yml",
        "e2e.yml",
        "pull-request.yml",
        "pulumi-up.yml",
    }
    assert required <= present, required - present


def test_actionlint_fails_on_a_broken_workflow(tmp_path: Path) -> None:
    # An untrusted value (a commit message) expanded straight into a `run:` script: shell
    # injection, which no parsed test here looks for.
    target = tmp_path / ".github" / "workflows"
    shutil.copytree(WORKFLOWS, target)
    old = 'echo "Requested by @$GITHUB_ACTOR: $REASON"'
    text = (target / "cutover.yml").read_text()
    assert old in text, f"cutover.yml no longer contains {old!r}: update this test"
    new = 'echo "Requested by: ${{ github.event.head_commit.message }}"'
    (target / "cutover.yml").write_text(text.replace(old, new))
    proc = actionlint(tmp_path, *(str(p.relative_to(tmp_path)) for p in target.glob("*.yml")))
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert ".github/workflows/cutover.yml" in proc.stdout, proc.stdout


# --- zizmor: the security audit --------------------------------------------------------------


def zizmor(workflows: Path) -> subprocess.CompletedProcess[str]:
    """zizmor over every workflow of a folder, offline (no GitHub API, no token), its default
    persona, inline ignore comments honoured and no config file: every allowance is a comment
    beside the finding, where ``ignore_problems`` checks its reason."""
    if not ZIZMOR.exists():
        unavailable(".venv-tools/bin/zizmor is missing: run scripts/install.sh")
    files = [str(p) for p in workflow_files(workflows)]
    assert files, f"no workflow in {workflows}"
    env = {k: v for k, v in os.environ.items() if "TOKEN" not in k}
    return subprocess.run(
        [str(ZIZMOR), "--offline", "--no-config", "--no-progress", "--format", "json", *files],
        check=False,
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )


def findings(proc: subprocess.CompletedProcess[str]) -> list[tuple[str, str, int]]:
    """(audit, file, line) of every finding zizmor reported (ignored ones are not reported)."""
    out = []
    for finding in json.loads(proc.stdout or "[]"):
        where = finding["locations"][0]
        path = where["symbolic"]["key"]["Local"]["verbatim_path"]
        line = where["concrete"]["location"]["start_point"]["row"] + 1
        out.append((finding["ident"], Path(path).name, line))
    return out


_IGNORE = re.compile(r"#\s*zizmor:\s*ignore\[(?P<rules>[^\]]*)\](?P<reason>.*)$")
#: The fewest words a reason beside an allowed finding may have.
REASON_WORDS = 4


def ignore_problems(text: str, where: str) -> list[str]:
    """Every ``# zizmor: ignore[...]`` comment that gives no reason beside it."""
    problems = []
    for number, line in enumerate(text.splitlines(), 1):
        match = _IGNORE.search(line)
        if match and len(match["reason"].split()) < REASON_WORDS:
            problems.append(f"{where}:{number}: ignore[{match['rules']}] says no reason")
    return problems


def test_every_workflow_passes_zizmor() -> None:
    proc = zizmor(WORKFLOWS)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert findings(proc) == []


def test_every_finding_zizmor_is_told_to_allow_says_why() -> None:
    problems = [
        p for path in workflow_files() for p in ignore_problems(path.read_text(), path.name)
    ]
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (
            "    uses: ./.github/workflows/checks.yml # zizmor: ignore[self-repository]",
            ["x.yml:1: ignore[self-repository] says no reason"],
        ),
        (
            "    secrets: inherit  #zizmor: ignore[secrets-inherit,artipacked] fine",
            ["x.yml:1: ignore[secrets-inherit,artipacked] says no reason"],
        ),
        ("    uses: ./x.yml # zizmor: ignore[self-repository] read from this run's commit", []),
    ],
)
def test_an_allowance_without_a_reason_is_refused(line: str, expected: list[str]) -> None:
    assert ignore_problems(line, "x.yml") == expected


@pytest.mark.parametrize(
    ("name", "old", "new", "audit"),
    [
        # The spoofable bot check this audit found first.
        (
            "pull-request.yml",
            "|| github.event.pull_request.user.login == 'dependabot[bot]'",
            "|| github.actor == 'dependabot[bot]'",
            "bot-conditions",
        ),
        # Every secret of the caller handed to the deploy.
        (
            "deploy.yml",
            "    secrets:\n      PULUMI_ACCESS_TOKEN: ${{ secrets.PULUMI_ACCESS_TOKEN }}\n"
            "      PULUMI_CONFIG_PASSPHRASE: ${{ secrets.PULUMI_CONFIG_PASSPHRASE }}\n",
            "    secrets: inherit\n",
            "secrets-inherit",
        ),
        # The release App's token left in the checkout for every later step.
        (
            "cutover.yml",
            "          persist-credentials: false\n\n      - uses: actions/download-artifact",
            "          token: ${{ steps.app.outputs.token }}\n\n"
            "      - uses: actions/download-artifact",
            "artipacked",
        ),
    ],
)
def test_zizmor_fails_on_a_broken_workflow(
    tmp_path: Path, name: str, old: str, new: str, audit: str
) -> None:
    target = tmp_path / "workflows"
    shutil.copytree(WORKFLOWS, target)
    text = (target / name).read_text()
    assert old in text, f"{name} no longer contains {old!r}: update this test"
    (target / name).write_text(text.replace(old, new, 1))
    proc = zizmor(target)
    assert proc.returncode != 0, proc.stdout[-2000:]
    assert audit in {ident for ident, file, _ in findings(proc) if file == name}, proc.stdout


def cloud_stacks() -> list[str]:
    """Stacks that live on GCP (not platform local): the ones CI previews and deploys."""
    out = []
    for s in stacks():
        config = yaml.safe_load((ROOT / "stacks" / f"Pulumi.{s}.yaml").read_text())["config"]
        if config.get("gke-bluegreen:platform", "gke") != "local":
            out.append(s)
    return out


def test_every_cloud_stack_is_previewed_deployable_and_cut_over() -> None:
    preview = workflow("pull-request.yml")["jobs"]["preview"]["strategy"]["matrix"]["stack"]
    deploy = workflow("deploy.yml")["on"]["workflow_dispatch"]["inputs"]["stack"]["options"]
    cutover = workflow("cutover.yml")["on"]["workflow_dispatch"]["inputs"]["stack"]["options"]
    for name, listed in (("preview", preview), ("deploy", deploy), ("cutover", cutover)):
        assert sorted(listed) == cloud_stacks(), f"{name} stacks {listed} != {cloud_stacks()}"


def test_pulumi_up_is_serialised_gated_refreshed_and_policed() -> None:
    job = workflow("pulumi-up.yml")["jobs"]["up"]
    assert job["environment"]["name"] == "${{ inputs.stack }}"
    assert job["concurrency"] == {
        "group": "pulumi-${{ inputs.stack }}",
        "cancel-in-progress": False,
        "queue": "max",
    }
    assert job["permissions"]["id-token"] == "write"
    (up,) = [s for s in job["steps"] if s.get("with", {}).get("command") == "up"]
    assert up["with"]["refresh"] is True and up["with"]["policyPacks"] == "policy"


def test_preview_refreshes_and_posts_one_comment_per_stack() -> None:
    job = workflow("pull-request.yml")["jobs"]["preview"]
    (step,) = [s for s in job["steps"] if s.get("with", {}).get("command") == "preview"]
    assert step["with"]["stack-name"] == "${{ matrix.stack }}"
    assert step["with"]["refresh"] is True
    assert step["with"]["comment-on-pr"] is True and step["with"]["edit-pr-comment"] is True


def test_prod_waits_for_dev_on_push_and_every_deploy_uses_the_gated_job() -> None:
    jobs = workflow("deploy.yml")["jobs"]
    assert "dev" in jobs["prod"]["needs"]
    for name in ("dev", "imageview", "prod"):
        assert jobs[name]["uses"] == "./.github/workflows/pulumi-up.yml"
        assert jobs[name]["with"]["stack"] == name
    assert workflow("cutover.yml")["jobs"]["apply"]["uses"] == "./.github/workflows/pulumi-up.yml"


# --- Trust boundaries -------------------------------------------------------------------------

PREVIEW_ACCOUNT = "${{ vars.GCP_PREVIEW_SERVICE_ACCOUNT }}"
DEPLOY_ACCOUNT = "${{ vars.GCP_DEPLOY_SERVICE_ACCOUNT }}"


def auth_steps() -> list[tuple[str, str, dict[str, Any], dict[str, Any]]]:
    """(file, job id, job, step) of every google-github-actions/auth step."""
    found = []
    for path in workflow_files():
        doc = workflow(path.name)
        for job_id, step in steps(doc):
            if action(step) == "google-github-actions/auth":
                found.append((path.name, job_id, doc["jobs"][job_id], step))
    return found


def test_every_cloud_identity_is_bound_to_its_environment() -> None:
    # The service account a job may impersonate is decided by the GitHub environment it runs in:
    # `preview-<stack>` holds the stack's read-only preview account, `<stack>` its deploy account
    # (and Workload Identity Federation grants the deploy account only to that environment on
    # refs/heads/main: docs/delivery.md).
    found = auth_steps()
    assert {(f, j) for f, j, _, _ in found} == {
        ("pull-request.yml", "preview"),
        ("pulumi-up.yml", "up"),
        ("e2e.yml", "gke"),
    }
    for name, job_id, job, step in found:
        environment = job["environment"]["name"]
        account = step["with"]["service_account"]
        assert step["with"]["workload_identity_provider"] == (
            "${{ vars.GCP_WORKLOAD_IDENTITY_PROVIDER }}"
        ), name
        assert "credentials_json" not in step["with"], f"{name}: use Workload Identity Federation"
        if environment.startswith("preview-"):
            assert account == PREVIEW_ACCOUNT, f"{name} {job_id}: {account}"
        elif name == "e2e.yml":
            # The e2e environment's own deploy identity, in its own project.
            assert environment == "e2e-gke" and account == DEPLOY_ACCOUNT, name
        else:
            assert environment == "${{ inputs.stack }}" and account == DEPLOY_ACCOUNT, name


def test_pr_preview_never_uses_the_deploy_identity() -> None:
    doc = workflow("pull-request.yml")
    accounts = [
        v for v in strings(doc) if "GCP_SERVICE_ACCOUNT" in v or "GCP_DEPLOY_SERVICE_ACCOUNT" in v
    ]
    assert accounts == [], accounts
    jobs = doc["jobs"]
    assert all(job.get("secrets") != "inherit" for job in jobs.values())
    assert not any(str(job.get("uses", "")).endswith("pulumi-up.yml") for job in jobs.values())
    job = doc["jobs"]["preview"]
    assert job["environment"]["name"] == "preview-${{ matrix.stack }}"
    commands = {s["with"].get("command") for _, s in steps(doc) if action(s) == "pulumi/actions"}
    assert commands == {"preview"}, commands


def test_preview_policy_pack_comes_from_the_base_checkout() -> None:
    job = workflow("pull-request.yml")["jobs"]["preview"]
    (base,) = [
        s
        for s in job["steps"]
        if action(s) == "actions/checkout"
        and s.get("with", {}).get("ref") == "${{ github.event.pull_request.base.sha }}"
    ]
    pack = f"{base['with']['path']}/policy"
    assert base["with"]["sparse-checkout"] == "policy"
    assert base["with"]["path"] not in ("", ".", "./"), "the base must not overwrite the PR"
    (preview,) = [s for s in job["steps"] if s.get("with", {}).get("command") == "preview"]
    assert preview["with"]["policyPacks"] == pack
    # The pack runs in a venv made from the base's own lock, beside the base's pack.
    assert any(f"policy-venv POLICY={pack}" in s.get("run", "") for s in job["steps"])


def _normalise(expression: str) -> str:
    return " ".join(expression.split())


def test_forks_and_dependabot_run_offline_and_say_so() -> None:
    jobs = workflow("pull-request.yml")["jobs"]
    preview, offline = _normalise(jobs["preview"]["if"]), _normalise(jobs["offline-only"]["if"])
    same_repo = "github.event.pull_request.head.repo.full_name == github.repository"
    # Dependabot by the pull request's author: github.actor is whoever triggered the run, which
    # can be arranged (zizmor's bot-conditions).
    author = "github.event.pull_request.user.login"
    assert preview == f"{same_repo} && {author} != 'dependabot[bot]'"
    # The notice runs exactly when the previews do not.
    assert offline == (f"{same_repo.replace('==', '!=')} || {author} == 'dependabot[bot]'")
    conditions = [str(v.get("if", "")) for v in jobs.values()]
    conditions += [str(s.get("if", "")) for _, s in steps(workflow("pull-request.yml"))]
    assert not any("github.actor" in c for c in conditions), conditions
    notice = " ".join(s.get("run", "") for s in jobs["offline-only"]["steps"])
    assert "GITHUB_STEP_SUMMARY" in notice and "nothing was previewed" in notice


def test_checks_need_no_secrets_and_probe_nothing() -> None:
    checks = workflow("checks.yml")
    assert not checks["on"]["workflow_call"], "checks.yml takes no inputs, secrets or outputs"
    assert set(checks["jobs"]) == {"offline"}
    for name in ("pull-request.yml", "deploy.yml"):
        assert "secrets" not in workflow(name)["jobs"]["checks"], name


def test_checks_run_every_test_command_of_the_readme_test_script() -> None:
    """The GitHub checks and `.ci/run` (scripts/test-all.sh) test the same things: every lint,
    type and pytest command of the script is a step of checks.yml (or of `make lint`, which
    checks.yml runs)."""
    script = (ROOT / "scripts/test-all.sh").read_text().splitlines()
    commands = [line.strip() for line in script if line.strip().startswith(".venv")]
    assert any("pytest" in c for c in commands) and any("oldest" in c for c in commands)
    runs = " ".join(str(step.get("run", "")) for _, step in steps(workflow("checks.yml")))
    lint = (ROOT / "Makefile").read_text().split("\nlint:", 1)[1].split("\n\n", 1)[0]
    for command in commands:
        words = command.replace('"$@"', "").split()
        in_checks = " ".join(words) in " ".join(runs.split())
        in_lint = "make lint" in runs and " ".join(words) in " ".join(lint.split())
        assert in_checks or in_lint, f"checks.yml never runs: {command}"


# --- Guards fail closed -----------------------------------------------------------------------


def test_a_push_to_main_deploys_or_fails() -> None:
    # No "credentials available?" shortcut: dev runs on every push, and the deploy job checks
    # its own environment's credentials (scripts/delivery/require-cloud.sh) before anything else.
    deploy = workflow("deploy.yml")
    conditions = [str(job.get("if", "")) for job in deploy["jobs"].values()]
    conditions += [str(step.get("if", "")) for _, step in steps(deploy)]
    assert not any("outputs.cloud" in c for c in conditions), conditions
    assert _normalise(deploy["jobs"]["dev"]["if"]).startswith("github.event_name == 'push' ||")
    job = workflow("pulumi-up.yml")["jobs"]["up"]
    names = [s.get("name", s.get("uses", "")) for s in job["steps"]]
    first = job["steps"][0]
    assert first["if"] == "github.ref != 'refs/heads/main'" and "exit 1" in first["run"]
    (check,) = [i for i, s in enumerate(job["steps"]) if "require-cloud.sh" in s.get("run", "")]
    assert "GCP_DEPLOY_SERVICE_ACCOUNT" in job["steps"][check]["run"]
    (auth,) = [i for i, s in enumerate(job["steps"]) if action(s) == "google-github-actions/auth"]
    assert check < auth, names
    guard = [s for s in job["steps"] if "live-color-guard.sh" in s.get("run", "")]
    assert len(guard) == 1 and guard[0]["if"] == "inputs.release == ''"


def test_nothing_that_changes_a_stack_can_be_cancelled_by_concurrency() -> None:
    # GitHub keeps one pending job per concurrency group and cancels the older one unless the
    # group has `queue: max` (up to 100 waiting, in order); see docs/delivery.md.
    for name in ("deploy.yml", "cutover.yml", "pulumi-up.yml"):
        doc = workflow(name)
        assert "concurrency" not in doc, f"{name}: a workflow-level group would cancel runs"
        for job_id, job in doc["jobs"].items():
            if "concurrency" in job:
                assert job["concurrency"].get("queue") == "max", f"{name} {job_id}"
                assert job["concurrency"].get("cancel-in-progress") is False, f"{name} {job_id}"
    # Only pull requests cancel superseded runs, and they change nothing.
    assert workflow("pull-request.yml")["concurrency"]["cancel-in-progress"] is True


def test_release_pr_is_opened_with_the_app_token() -> None:
    job = workflow("cutover.yml")["jobs"]["record"]
    assert job["environment"]["name"] == "release"
    assert job["permissions"] == {"contents": "read"}
    (token,) = [s for s in job["steps"] if action(s) == "actions/create-github-app-token"]
    assert token["with"]["client-id"] == "${{ vars.RELEASE_APP_CLIENT_ID }}"
    assert token["with"]["private-key"] == "${{ secrets.RELEASE_APP_PRIVATE_KEY }}"
    app_token = f"${{{{ steps.{token['id']}.outputs.token }}}}"
    # The token reaches only the step that pushes and opens the PR, and there only git's
    # credential helper and gh read it (from GH_TOKEN): the checkout keeps no credentials.
    users = [s for s in job["steps"] if app_token in list(strings(s))]
    (opener,) = [s for s in job["steps"] if "gh pr create" in s.get("run", "")]
    assert users == [opener]
    assert opener["env"]["GH_TOKEN"] == app_token
    assert '"$GH_TOKEN"' in opener["run"] and "credential.helper=!" in opener["run"]
    assert not any("github.token" in v or "GITHUB_TOKEN" in v for v in strings(job))


def test_checkouts_keep_no_credentials() -> None:
    checkouts = [
        (path.name, job_id, step)
        for path in workflow_files()
        for job_id, step in steps(workflow(path.name))
        if action(step) == "actions/checkout"
    ]
    assert ("cutover.yml", "record") in {(name, job_id) for name, job_id, _ in checkouts}
    for name, job_id, step in checkouts:
        assert step.get("with", {}).get("persist-credentials") is False, (name, job_id)


def test_the_deploy_gets_only_the_secrets_it_declares() -> None:
    """No `secrets: inherit`: pulumi-up.yml declares the secrets it reads, and every caller
    passes exactly those, by name."""
    called = workflow("pulumi-up.yml")
    declared = set(called["on"]["workflow_call"]["secrets"])
    read = {m.group(1) for v in strings(called["jobs"]) for m in re.finditer(r"secrets\.(\w+)", v)}
    assert read == declared, f"pulumi-up.yml reads {sorted(read)}, declares {sorted(declared)}"
    calls = 0
    for path in workflow_files():
        for job_id, job in workflow(path.name)["jobs"].items():
            assert job.get("secrets") != "inherit", f"{path.name} {job_id}"
            if str(job.get("uses", "")).endswith("/pulumi-up.yml"):
                calls += 1
                passed = job["secrets"]
                assert passed == {n: f"${{{{ secrets.{n} }}}}" for n in declared}, path.name
    assert calls == 4, "the deploys of dev, imageview and prod, and the cutover"


# --- Code owners ------------------------------------------------------------------------------


def code_owners(path: str) -> list[str]:
    """The owners of ``path`` by .github/CODEOWNERS (the last matching line wins)."""
    owners: list[str] = []
    for line in (ROOT / ".github" / "CODEOWNERS").read_text().splitlines():
        fields = line.split("#", 1)[0].split()
        if not fields:
            continue
        pattern, who = fields[0], fields[1:]
        assert pattern.startswith("/"), f"anchor CODEOWNERS patterns at the root: {pattern}"
        prefix = pattern.lstrip("/")
        if path == prefix or (prefix.endswith("/") and path.startswith(prefix)):
            owners = who
    return owners


@pytest.mark.parametrize(
    "path",
    [
        "policy/rules/__init__.py",
        "policy/requirements.txt",
        ".github/workflows/pulumi-up.yml",
        ".github/CODEOWNERS",
        "stacks/Pulumi.prod.yaml",
    ],
)
def test_code_owners_guard_the_policy_the_workflows_and_prod(path: str) -> None:
    owners = code_owners(path)
    assert owners, f"{path} has no code owner"
    assert all(re.fullmatch(r"@[\w-]+/[\w-]+", o) for o in owners), owners


def test_releases_go_through_the_release_tool() -> None:
    """Cutover steps are the release tool's (infra/release/); a deploy of main refuses an app
    whose live color nothing protects; after a promote the live URL is checked and a failure
    rolls back by itself."""
    apply = workflow("cutover.yml")["jobs"]["apply"]
    assert apply["with"]["release"] == "${{ inputs.step }}"
    assert apply["with"]["app"] == "${{ inputs.app }}"
    steps = workflow("pulumi-up.yml")["jobs"]["up"]["steps"]
    runs = {s.get("name", ""): (s.get("if", ""), s.get("run", "")) for s in steps}
    (step,) = [v for v in runs.values() if 'python -m infra.release "$RELEASE"' in v[1]]
    assert step[0] == "inputs.release != '' && inputs.release != 'run'"
    # A canary run applies its own steps, each its own `pulumi up`, instead of the one below.
    (canary,) = [v for v in runs.values() if "infra.release run " in v[1]]
    assert canary[0] == "inputs.release == 'run'" and "--apply" in canary[1]
    (up,) = [s for s in steps if s.get("with", {}).get("command") == "up"]
    assert up["if"] == "inputs.release != 'run'"
    (check,) = [v for v in runs.values() if "infra.release check" in v[1]]
    assert check[0] == "inputs.release == ''"
    (verify,) = [v for v in runs.values() if "infra.release verify" in v[1]]
    assert verify[0] == "inputs.release == 'promote'"
    assert "infra.release rollback" in verify[1] and "pulumi up" in verify[1]
    assert "exit 1" in verify[1], "a rolled-back promote fails the run"
    options = workflow("cutover.yml")["on"]["workflow_dispatch"]["inputs"]["step"]["options"]
    assert options == ["start", "shift", "abort", "run", "promote", "rollback", "finish"]


# --- End to end -------------------------------------------------------------------------------


def test_e2e_runs_nightly_and_on_demand_and_never_for_a_pull_request() -> None:
    doc = workflow("e2e.yml")
    assert set(doc["on"]) == {"schedule", "workflow_dispatch"}
    assert doc["on"]["schedule"] and all("cron" in entry for entry in doc["on"]["schedule"])
    assert doc["permissions"] == {"contents": "read"}
    gke = doc["jobs"]["gke"]
    assert _normalise(gke["if"]) == "github.event_name == 'workflow_dispatch' && inputs.gke"
    assert doc["on"]["workflow_dispatch"]["inputs"]["gke"]["default"] is False


def _runs(job: dict[str, Any]) -> list[str]:
    return [str(step.get("run", "")) for step in job["steps"]]


def test_e2e_on_minikube_does_what_the_readme_says_then_drives_a_release() -> None:
    job = workflow("e2e.yml")["jobs"]["minikube"]
    runs = "\n".join(_runs(job))
    # Minikube from a pinned release, its checksum checked before it is installed.
    assert re.fullmatch(r"v\d+\.\d+\.\d+", job["env"]["MINIKUBE_VERSION"])
    assert re.fullmatch(r"[0-9a-f]{64}", job["env"]["MINIKUBE_SHA256"])
    assert runs.index("sha256sum --check") < runs.index("install -m 0755")
    assert "minikube start" in runs
    readme = (ROOT / "README.md").read_text().split("### Local stack (Minikube)", 1)[1]
    for command in ('eval "$(minikube docker-env', "pulumi up --stack local"):
        assert command in readme and command in runs, command
    assert any(action(s) == "pulumi/actions" for s in job["steps"])
    (drive,) = [r for r in _runs(job) if "python -m infra.e2e" in r]
    assert "--stack local --app kubia" in drive and "minikube service kubia-http --url" in drive
    assert runs.index("pulumi up --stack local") < runs.index("python -m infra.e2e")


def test_e2e_on_gke_uses_a_throwaway_stack_and_always_tears_it_down() -> None:
    job = workflow("e2e.yml")["jobs"]["gke"]
    assert job["environment"]["name"] == "e2e-gke"
    assert job["env"]["STACK"] == "e2e-${{ github.run_id }}"
    assert job["concurrency"] == {"group": "e2e-gke", "cancel-in-progress": False}
    names = [s.get("name", s.get("uses", "")) for s in job["steps"]]
    first = job["steps"][0]
    assert first["if"] == "github.ref != 'refs/heads/main'" and "exit 1" in first["run"]
    (create,) = [i for i, r in enumerate(_runs(job)) if "pulumi stack init" in r]
    (drive,) = [i for i, r in enumerate(_runs(job)) if "python -m infra.e2e" in r]
    (teardown,) = [i for i, r in enumerate(_runs(job)) if "pulumi destroy" in r]
    assert create < drive < teardown, names
    assert teardown == len(job["steps"]) - 1 and job["steps"][teardown]["if"] == "always()"
    assert '--stack "$STACK"' in job["steps"][teardown]["run"]
    assert 'pulumi stack rm "$STACK" --yes' in job["steps"][teardown]["run"]
    assert 'cp stacks/Pulumi.dev.yaml "stacks/Pulumi.$STACK.yaml"' in job["steps"][create]["run"]

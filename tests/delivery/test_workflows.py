"""The GitHub workflows: actionlint clean (and able to fail), and the delivery rules they encode."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.delivery.renders import ROOT, stacks
from tests.prerequisites import unavailable

ACTIONLINT = ROOT / ".venv-tools" / "bin" / "actionlint"
WORKFLOWS = ROOT / ".github" / "workflows"


def actionlint(cwd: Path, *files: str) -> subprocess.CompletedProcess[str]:
    if not ACTIONLINT.exists():
        unavailable(".venv-tools/bin/actionlint is missing: run scripts/install.sh")
    return subprocess.run(
        [str(ACTIONLINT), "-no-color", *files],
        check=False,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
    )


def workflow(name: str) -> dict[str, Any]:
    doc = yaml.safe_load((WORKFLOWS / name).read_text())
    # YAML 1.1 reads the `on:` key as the boolean true.
    if True in doc:
        doc["on"] = doc.pop(True)
    return dict(doc)


def test_shellcheck_is_there_for_actionlint() -> None:
    # actionlint checks `run:` scripts only when shellcheck is on PATH.
    if shutil.which("shellcheck") is None:
        unavailable("shellcheck is missing: run scripts/install.sh")


def test_every_workflow_passes_actionlint() -> None:
    proc = actionlint(ROOT)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    present = {p.name for p in WORKFLOWS.glob("*.yml")}
    required = {"checks.yml", "cutover.yml", "deploy.yml", "pull-request.yml", "pulumi-up.yml"}
    assert required <= present, required - present


BREAKAGES = [
    # (file, text to replace, replacement, what actionlint must say)
    (
        "pull-request.yml",
        "policyPacks: policy",
        "policyPack: policy",
        'input "policyPack" is not defined',
    ),
    (
        "pull-request.yml",
        "needs.checks.outputs.cloud",
        "needs.check.outputs.cloud",
        'property "check" is not defined',
    ),
    (
        "cutover.yml",
        'echo "Requested by @$GITHUB_ACTOR: $REASON"',
        'echo "Requested by: ${{ github.event.head_commit.message }}"',
        "potentially untrusted",
    ),
    (
        "pulumi-up.yml",
        "group: pulumi-${{ inputs.stack }}",
        "group: pulumi-${{ inputs.stak }}",
        'property "stak" is not defined',
    ),
]


@pytest.mark.parametrize(("name", "old", "new", "expected"), BREAKAGES, ids=lambda v: str(v)[:30])
def test_actionlint_fails_on_a_broken_workflow(
    tmp_path: Path, name: str, old: str, new: str, expected: str
) -> None:
    target = tmp_path / ".github" / "workflows"
    shutil.copytree(WORKFLOWS, target)
    text = (target / name).read_text()
    assert old in text, f"{name} no longer contains {old!r}: update this test"
    (target / name).write_text(text.replace(old, new))
    proc = actionlint(tmp_path, *(str(p.relative_to(tmp_path)) for p in target.glob("*.yml")))
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert expected in proc.stdout, proc.stdout


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
    }
    assert job["permissions"]["id-token"] == "write"
    (up,) = [s for s in job["steps"] if s.get("with", {}).get("command") == "up"]
    assert up["with"]["refresh"] is True and up["with"]["policyPacks"] == "policy"


def test_preview_uses_the_policy_pack_and_one_comment_per_stack() -> None:
    job = workflow("pull-request.yml")["jobs"]["preview"]
    (step,) = [s for s in job["steps"] if s.get("with", {}).get("command") == "preview"]
    assert step["with"]["stack-name"] == "${{ matrix.stack }}"
    assert step["with"]["policyPacks"] == "policy"
    assert step["with"]["comment-on-pr"] is True and step["with"]["edit-pr-comment"] is True


def test_prod_waits_for_dev_on_push_and_every_deploy_uses_the_gated_job() -> None:
    jobs = workflow("deploy.yml")["jobs"]
    assert "dev" in jobs["prod"]["needs"]
    for name in ("dev", "imageview", "prod"):
        assert jobs[name]["uses"] == "./.github/workflows/pulumi-up.yml"
        assert jobs[name]["with"]["stack"] == name
    assert workflow("cutover.yml")["jobs"]["apply"]["uses"] == "./.github/workflows/pulumi-up.yml"


def test_cloud_auth_is_workload_identity_only() -> None:
    for path in WORKFLOWS.glob("*.yml"):
        text = path.read_text()
        assert "credentials_json" not in text, f"{path.name}: use Workload Identity Federation"
        if "google-github-actions/auth@" in text:
            assert "workload_identity_provider:" in text, path.name

"""The deploy guards fail closed: scripts/delivery/require-cloud.sh (a job that cannot deploy
fails instead of reporting success) and scripts/delivery/live-color-guard.sh (a deploy that would
switch a live color back is refused, and so is one whose live colors cannot be read).

The guard's only dependency is `pulumi stack output --json --stack <stack>`. Here a stand-in for
the CLI on PATH answers it the two ways the CLI does (pulumi/pulumi
pkg/cmd/pulumi/stack/stack_output.go at 1b59498): every output as one JSON object, `{}` when the
stack has none; or an error on stderr and a non-zero exit when the backend, login, permission or
decryption fails. It refuses any other arguments, so the guard's call is pinned too. The
rendered outputs are real renders of the dev stack.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.delivery.renders import ROOT, render
from tests.delivery.workflows import run_scripts
from tests.prerequisites import unavailable

GUARD = ROOT / "scripts" / "delivery" / "live-color-guard.sh"
REQUIRE = ROOT / "scripts" / "delivery" / "require-cloud.sh"
APP = "node-app"


def run(
    script: Path, *args: str, env: dict[str, str], cwd: Path
) -> subprocess.CompletedProcess[str]:
    if shutil.which("jq") is None:
        unavailable("jq is missing: run scripts/install.sh")
    summary = cwd / "summary.md"
    summary.touch()
    return subprocess.run(
        ["bash", str(script), *args],
        check=False,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": os.environ["PATH"], "GITHUB_STEP_SUMMARY": str(summary), **env},
    )


def pulumi_on_path(tmp_path: Path, *, stdout: str = "", stderr: str = "", code: int = 0) -> str:
    """A directory with a `pulumi` that answers `stack output --json --stack dev` only."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (tmp_path / "out.txt").write_text(stdout)
    (tmp_path / "err.txt").write_text(stderr)
    script = bin_dir / "pulumi"
    script.write_text(
        "#!/bin/sh\n"
        'if [ "$*" != "stack output --json --stack dev" ]; then\n'
        '  echo "unexpected pulumi call: $*" >&2; exit 99\n'
        "fi\n"
        f'cat "{tmp_path}/out.txt"; cat "{tmp_path}/err.txt" >&2; exit {code}\n'
    )
    script.chmod(0o755)
    return f"{bin_dir}:{os.environ['PATH']}"


def dev_outputs() -> tuple[Path, str, str]:
    """This commit's rendered outputs of dev, the app's color there and the other color."""
    rendered = render("dev") / "outputs.json"
    color = json.loads(rendered.read_text())["apps"][APP]["active_color"]
    return rendered, color, "green" if color == "blue" else "blue"


def guard(
    tmp_path: Path, rendered: Path, *, stdout: str = "", stderr: str = "", code: int = 0
) -> subprocess.CompletedProcess[str]:
    """The guard run against a `pulumi` that answers with ``stdout``, ``stderr`` and ``code``."""
    path = pulumi_on_path(tmp_path, stdout=stdout, stderr=stderr, code=code)
    return run(GUARD, "dev", str(rendered), env={"PATH": path}, cwd=tmp_path)


def test_guard_fails_when_the_live_outputs_cannot_be_read(tmp_path: Path) -> None:
    rendered, _, _ = dev_outputs()
    proc = guard(
        tmp_path,
        rendered,
        stderr="error: failed to load checkpoint: googleapi: Error 403: Forbidden",
        code=255,
    )
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "::error title=cannot read the live outputs of dev::" in proc.stdout
    assert "Error 403" in (tmp_path / "summary.md").read_text()


def test_guard_passes_a_stack_that_has_no_outputs_yet(tmp_path: Path) -> None:
    rendered, _, _ = dev_outputs()
    proc = guard(tmp_path, rendered, stdout="{}\n")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "no outputs yet" in proc.stdout


def test_guard_passes_when_the_live_colors_are_this_commits(tmp_path: Path) -> None:
    rendered, _, _ = dev_outputs()
    proc = guard(tmp_path, rendered, stdout=rendered.read_text())
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_guard_refuses_to_switch_a_live_color_back(tmp_path: Path) -> None:
    rendered, color, other = dev_outputs()
    live = render("dev", [f"apps.{APP}.activeColor={other}"]) / "outputs.json"
    proc = guard(tmp_path, rendered, stdout=live.read_text())
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert f"{APP}: live {other}, this commit {color}" in proc.stdout
    assert "release PR is not merged" in (tmp_path / "summary.md").read_text()


def test_guard_passes_an_app_that_is_not_live_yet(tmp_path: Path) -> None:
    rendered, _, _ = dev_outputs()
    live = json.loads(rendered.read_text())
    del live["apps"][APP]
    proc = guard(tmp_path, rendered, stdout=json.dumps(live))
    assert proc.returncode == 0, proc.stdout + proc.stderr


@pytest.mark.parametrize(
    ("stdout", "rendered_name", "expected"),
    [
        ("not json", None, "are not a JSON object"),
        ('["a list"]', None, "are not a JSON object"),
        ('{"apps": "[secret]"}', None, "cannot compare the live colors"),
        ('{"apps": {}}', "missing.json", "cannot compare the live colors"),
    ],
)
def test_guard_fails_closed_on_anything_it_cannot_compare(
    tmp_path: Path, stdout: str, rendered_name: str | None, expected: str
) -> None:
    rendered, _, _ = dev_outputs()
    proc = guard(tmp_path, tmp_path / rendered_name if rendered_name else rendered, stdout=stdout)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert expected in proc.stdout


def test_no_workflow_swallows_a_failed_pulumi_read() -> None:
    # `pulumi stack output ... 2>/dev/null || echo '{}'` would turn a backend or auth error into
    # "nothing deployed yet".
    for where, script in run_scripts():
        assert "|| echo '{}'" not in script, where
        for line in script.splitlines():
            if "pulumi stack output" in line:
                assert "||" not in line and "2>/dev/null" not in line, f"{where}: {line}"


CLOUD = {
    "GCP_WORKLOAD_IDENTITY_PROVIDER": (
        "projects/1/locations/global/workloadIdentityPools/github/providers/github"
    ),
    "GCP_DEPLOY_SERVICE_ACCOUNT": "deploy-dev@example-project.iam.gserviceaccount.com",
    "PULUMI_BACKEND_URL": "gs://example-state-bucket",
}


@pytest.mark.parametrize("missing", sorted(CLOUD))
def test_a_deploy_without_credentials_fails_loudly(tmp_path: Path, missing: str) -> None:
    env = {k: v for k, v in CLOUD.items() if k != missing}
    proc = run(REQUIRE, "GCP_DEPLOY_SERVICE_ACCOUNT", "dev", env=env, cwd=tmp_path)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "::error title=No cloud credentials in environment dev::" in proc.stdout
    assert "lacks cloud credentials" in (tmp_path / "summary.md").read_text()


def test_a_deploy_with_credentials_goes_on(tmp_path: Path) -> None:
    proc = run(REQUIRE, "GCP_DEPLOY_SERVICE_ACCOUNT", "dev", env=CLOUD, cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    token = {**CLOUD, "PULUMI_ACCESS_TOKEN": "pul-0000"}
    del token["PULUMI_BACKEND_URL"]
    proc = run(REQUIRE, "GCP_DEPLOY_SERVICE_ACCOUNT", "dev", env=token, cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr

"""infra/release/lock.py: one step at a time on one stack. A second step while one runs (its
`pulumi up` under way) is refused naming the holder; a step killed while it held the lock leaves
it free, and the next step says it took it over."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from infra.release import lock
from infra.release.__main__ import main
from tests.infra.release.harness import deployed_outputs
from tests.infra.release.stand_in import StandIn, install, tool

IV = ["--stack", "imageview", "--app", "imageview"]


def _wait_for_update(stand_in: StandIn, seconds: float = 60) -> None:
    """Until the step in the other process has written the stack file and runs `pulumi up`."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if "up imageview" in stand_in.calls():
            return
        time.sleep(0.1)
    raise AssertionError(f"the other step did not reach `pulumi up` within {seconds} s")


def test_two_steps_at_once_cannot_both_write(
    project: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from infra.release import rendering

    stand_in = install(project, monkeypatch)
    stand_in.keep("imageview", deployed_outputs(rendering.render("imageview")))
    stand_in.queue("up", "hang")
    first = tool(
        project,
        ["start", *IV, "--apply"],
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait_for_update(stand_in)
        assert f'"pid": {first.pid}' in lock.lock_path("imageview").read_text()
        path = project / "stacks/Pulumi.imageview.yaml"
        before = path.read_text()
        assert main(["start", *IV, "--set", "apps.imageview.colors.green.env.V=2"]) == 2
        err = capsys.readouterr().err
        assert err.startswith(
            "error: another release step holds stack imageview: `start --stack imageview --app "
            f"imageview --apply` (pid {first.pid} on "
        ), err
        assert err.count("\n") == 1 and "then run this step again" in err
        assert path.read_text() == before, "the second step wrote nothing"
    finally:
        os.killpg(first.pid, signal.SIGKILL)  # the step and its `pulumi up`, mid-update
        first.wait(timeout=30)
    # Killed while holding the lock: the next step takes it over and says so.
    assert main(["promote", *IV]) == 0
    out = capsys.readouterr().out
    assert out.startswith(
        "note: took over the lock of stack imageview from `start --stack imageview --app "
        f"imageview --apply` (pid {first.pid} on "
    ), out
    assert "promote: traffic moves to green" in out
    assert lock.lock_path("imageview").read_text() == "", "released at the end of the step"


def test_the_lock_is_beside_the_stack_file_and_git_ignored(project: Path) -> None:
    path = lock.lock_path("imageview")
    assert path == project / "stacks/.Pulumi.imageview.yaml.lock"
    ignored = subprocess.run(
        ["git", "check-ignore", "-q", "stacks/.Pulumi.imageview.yaml.lock"],
        cwd=Path(__file__).resolve().parents[3],
        check=False,
    )
    assert ignored.returncode == 0

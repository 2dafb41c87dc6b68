"""infra/release/run.py: a step shows what `pulumi up` will change; a step refused by its own rule
or by the program writes nothing, and --apply runs `pulumi up` only after writing."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest

from infra.release import deployed, rendering
from infra.release.__main__ import main
from infra.release.errors import ReleaseError
from infra.release.run import run_step, show
from infra.release.start import plan_start
from tests.helpers import Answer
from tests.infra.release.harness import IMAGE, app_node, deployed_outputs, of, outputs, up
from tests.infra.release.stand_in import install


def test_a_refused_step_prints_the_changes_and_writes_nothing(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PULUMI", "true")
    path = project / "stacks/Pulumi.imageview.yaml"
    before = path.read_text()
    step = plan_start("imageview", "imageview", outputs(up(project, "imageview")))
    step.refusal = lambda change: "no change at all"
    lines: list[str] = []
    with pytest.raises(ReleaseError) as caught:
        run_step(step, apply=True, out=lines.append)
    assert str(caught.value) == "start refused, nothing written: no change at all"
    assert lines[0].startswith("start: blue stays live") and lines[1] == "pulumi up will:"
    assert lines[2].split() == ["deletes", "Image", "imageview-blue-image"], lines
    assert path.read_text() == before


def test_a_step_writes_then_applies(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    applied: list[tuple[str, str, str]] = []
    path = project / "stacks/Pulumi.imageview.yaml"

    def fake_up(stack: str, message: str, extra: Sequence[str] = ()) -> None:
        applied.append((stack, message, path.read_text()))

    monkeypatch.setattr(deployed, "pulumi_up", fake_up)
    monkeypatch.setenv("PULUMI", "true")
    step = plan_start("imageview", "imageview", outputs(up(project, "imageview")))
    lines: list[str] = []
    run_step(step, apply=True, out=lines.append)
    assert lines[-1] == f"wrote {path}"
    ((stack, message, written),) = applied
    assert (stack, message) == ("imageview", step.summary)
    assert "candidate:" in written, "pulumi up ran on the written file"


def test_a_stack_file_the_program_refuses_now_is_named(project: Path) -> None:
    step = plan_start("imageview", "imageview", outputs(up(project, "imageview")))
    path = project / "stacks/Pulumi.imageview.yaml"
    path.write_text(path.read_text().replace("replicas: 3", "replicas: lots"))
    with pytest.raises(ReleaseError, match="the stack file is refused as it is now"):
        show(step)


# ---------------------------------------------------------------------- against a real deploy


def test_a_whole_release_against_outputs_a_real_deploy_returns(
    project: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    http_stub: Callable[[Answer], str],
) -> None:
    """The outputs' digests are a registry's, never the mocks' own: start, promote and finish
    through the command line, each `pulumi up` by the stand-in CLI. The live color never
    appears to roll, and each step changes exactly what it should."""
    url = http_stub(lambda _path, _n: (200, "ok"))
    stand_in = install(project, monkeypatch)
    stand_in.queue("up", "ok", url=url)
    deployed = deployed_outputs(rendering.render("dev"))
    stand_in.keep("dev", deployed)
    kubia = deployed["apps"]["kubia"]["images"]["blue"]
    assert kubia.startswith("asia-northeast1-docker.pkg.dev/") and kubia not in {
        r.outputs["repoDigest"] for r in rendering.render("dev").of_type(IMAGE)
    }, "a registry's digest, not the mocks'"
    common = ["--stack", "dev", "--app", "kubia"]

    assert main(["start", *common, "--set", "apps.kubia.colors.green.env.V=2", "--apply"]) == 0
    out = capsys.readouterr().out
    assert "kubia-blue" not in out and "rolls          Deployment kubia-green (green)" in out, out
    assert app_node(project, "dev", "kubia")["release"]["live"]["image"] == kubia

    assert main(["promote", *common, "--apply", "--verify-requests", "1"]) == 0
    out = capsys.readouterr().out
    assert "moves traffic  Service kubia-http" in out and f"verified: 1 requests to {url}" in out

    assert main(["finish", *common, "--apply"]) == 0
    out = capsys.readouterr().out
    assert "scales         Deployment kubia-blue (blue)" in out, out
    assert "rolls" not in out, "the new live color keeps its pods: pinned to what it runs"
    green = stand_in.outputs("dev")["apps"]["kubia"]["images"]["green"]
    assert app_node(project, "dev", "kubia")["release"]["live"]["image"] == green
    assert stand_in.calls().count("up dev") == 3


def test_outputs_without_tags_assume_the_current_sources(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Outputs of a deploy made before the program exported apps.<app>.tags: the comparison takes
    the current sources for what the deployed digests were built from, and says so."""
    deployed = deployed_outputs(rendering.render("dev"))
    for entry in deployed["apps"].values():
        entry.pop("tags", None)
    file = project / "old-outputs.json"
    file.write_text(json.dumps(deployed))
    argv = ["start", "--stack", "dev", "--app", "kubia", "--outputs", str(file)]
    assert main([*argv, "--set", "apps.kubia.colors.green.env.V=2"]) == 0
    lines = capsys.readouterr().out.splitlines()
    notes = [line for line in lines if line.startswith("note: ")]
    assert len(notes) == 1 and "kubia's blue, kubia's green" in notes[0], lines
    assert "assumes the current sources" in notes[0]
    assert not [line for line in lines if "(blue)" in line], lines


def test_a_changed_build_rolls_only_where_it_runs(project: Path) -> None:
    """What is deployed was built from other sources than the file names now (a change not
    deployed yet): the live color, pinned to its deployed digest, does not roll; the candidate,
    built from the new sources, does."""
    deployed = deployed_outputs(rendering.render("imageview"))
    deployed["apps"]["imageview"]["tags"]["green"] = "src-000000000000"
    step = plan_start("imageview", "imageview", deployed)
    changes, refusals = show(step)
    assert refusals == []
    assert ("rolls", "Deployment", "green") in of(changes)
    assert not [c for c in changes if c.color == "blue"], changes


def test_the_steps_own_lines_come_before_the_update_in_a_pipe(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Run as CI runs it, its output into a pipe: the step, what `pulumi up` will change and the
    stack file it wrote are printed before the CLI's own output, not after it (Python holds
    what it prints into a pipe until it exits; the CLI writes to the same pipe at once)."""
    from infra.release import rendering
    from tests.infra.release.stand_in import tool

    stand_in = install(project, monkeypatch)
    stand_in.keep("imageview", deployed_outputs(rendering.render("imageview")))
    monkeypatch.delenv("PYTHONUNBUFFERED", raising=False)  # as in CI's shell
    done = tool(
        project,
        ["start", "--stack", "imageview", "--app", "imageview", "--apply"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    out, _ = done.communicate(timeout=300)
    assert done.returncode == 0, out
    lines = out.splitlines()
    assert lines[0].startswith("start: blue stays live"), lines
    wrote = lines.index(f"wrote {project / 'stacks/Pulumi.imageview.yaml'}")
    assert lines[wrote + 1] == "Updating (imageview): done", lines

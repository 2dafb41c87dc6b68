"""infra/release/run.py: a step shows what `pulumi up` will change; a step refused by its own rule
or by the program writes nothing, and --apply runs `pulumi up` only after writing."""

from __future__ import annotations

from pathlib import Path

import pytest

from infra.release import deployed, steps
from infra.release.errors import ReleaseError
from infra.release.run import run_step, show
from tests.infra.release.harness import outputs, up


def test_a_refused_step_prints_the_changes_and_writes_nothing(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PULUMI", "true")
    path = project / "stacks/Pulumi.imageview.yaml"
    before = path.read_text()
    step = steps.plan_start("imageview", "imageview", outputs(up(project, "imageview")))
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

    def fake_up(stack: str, message: str) -> None:
        applied.append((stack, message, path.read_text()))

    monkeypatch.setattr(deployed, "pulumi_up", fake_up)
    monkeypatch.setenv("PULUMI", "true")
    step = steps.plan_start("imageview", "imageview", outputs(up(project, "imageview")))
    lines: list[str] = []
    run_step(step, apply=True, out=lines.append)
    assert lines[-1] == f"wrote {path}"
    ((stack, message, written),) = applied
    assert (stack, message) == ("imageview", step.summary)
    assert "candidate:" in written, "pulumi up ran on the written file"


def test_a_stack_file_the_program_refuses_now_is_named(project: Path) -> None:
    step = steps.plan_start("imageview", "imageview", outputs(up(project, "imageview")))
    path = project / "stacks/Pulumi.imageview.yaml"
    path.write_text(path.read_text().replace("replicas: 3", "replicas: lots"))
    with pytest.raises(ReleaseError, match="the stack file is refused as it is now"):
        show(step)

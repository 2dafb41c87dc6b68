"""infra/release.py: whole release sequences on copies of the dev and imageview stack files, each
step's render diff touching exactly what it should, `pulumi up` simulated by rendering the
program (its outputs are what the next step reads), the post-promote check rolling back by itself,
and refusals that write nothing."""

from __future__ import annotations

import json
import os
import shutil
import stat
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from infra import release
from infra.offline import mocks
from infra.paths import ROOT
from infra.release import Change, ReleaseError
from tests.helpers import Answer

SECURE = {"id": {"secure": "v1:AAAAid"}, "key": {"secure": "v1:AAAAkey"}}


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of Pulumi.yaml and the stack files (imageview with its secrets set, encrypted)."""
    (tmp_path / "stacks").mkdir()
    shutil.copy(ROOT / "Pulumi.yaml", tmp_path / "Pulumi.yaml")
    for stack in ("dev", "imageview"):
        shutil.copy(ROOT / f"stacks/Pulumi.{stack}.yaml", tmp_path / f"stacks/Pulumi.{stack}.yaml")
    iv = tmp_path / "stacks/Pulumi.imageview.yaml"
    iv.write_text(
        iv.read_text()
        + "  gke-bluegreen:secrets:\n    imageview:\n"
        + "".join(f"      {k}:\n        secure: {v['secure']}\n" for k, v in SECURE.items())
    )
    monkeypatch.setattr("infra.paths.PROJECT_FILE", tmp_path / "Pulumi.yaml")
    return tmp_path


def up(project: Path, stack: str) -> Path:
    """`pulumi up` + `pulumi stack output --json`, offline: what the outputs would be."""
    outputs = mocks.redact(release.render(stack).outputs)
    file = project / f"outputs-{stack}.json"
    file.write_text(json.dumps(outputs))
    return file


def outputs(file: Path) -> release.Outputs:
    data: release.Outputs = json.loads(file.read_text())
    return data


def apply(step: release.Step) -> list[Change]:
    """Shows, checks and writes a step; returns what it changes."""
    changes, forbidden = release.show(step)
    assert not forbidden, forbidden
    step.file.write()
    return changes


def of(changes: list[Change]) -> set[tuple[str, str, str | None]]:
    """(how, kind, color) of every change, names aside (auto-named objects, Jobs)."""
    return {(c.how, c.kind, c.color) for c in changes}


def test_a_whole_release_of_imageview(project: Path) -> None:
    stack_file = project / "stacks/Pulumi.imageview.yaml"
    comments = [line for line in stack_file.read_text().splitlines() if "#" in line]
    first = up(project, "imageview")

    # start: blue (live) pinned; green gets a new config; only green rolls.
    step = release.plan_start(
        "imageview",
        "imageview",
        outputs(first),
        sets=['apps.imageview.colors.green.configMaps.projectid["project.id"]=next'],
    )
    changes = apply(step)
    assert of(changes) == {
        ("rolls", "ConfigMap", "green"),
        ("deletes", "ConfigMap", "green"),
        ("rolls", "Deployment", "green"),
        ("re-checks", "Job", "green"),
        ("deletes", "Job", "green"),
        ("deletes", "Image", None),
    }, changes
    (gone,) = [c for c in changes if c.kind == "Image"]
    assert gone.name == "imageview-blue-image", "blue runs its pinned digest: no build"
    document = yaml.safe_load(stack_file.read_text())
    app = document["config"]["gke-bluegreen:apps"]["imageview"]
    assert app["release"]["live"]["color"] == "blue"
    assert app["release"]["live"]["image"] == outputs(first)["apps"]["imageview"]["images"]["blue"]
    assert app["release"]["candidate"]["color"] == "green"
    assert app["colors"]["blue"]["image"].startswith("gcr.io/hello-docker/imageview@sha256:")
    secrets = document["config"]["gke-bluegreen:secrets"]["imageview"]
    assert secrets["colors"]["blue"] == SECURE, "blue keeps its own encrypted copy"
    text = stack_file.read_text()
    assert all(line in text for line in comments), "comments survive the edit"
    second = up(project, "imageview")

    # promote: only the Services move.
    changes = apply(release.plan_promote("imageview", "imageview"))
    assert of(changes) == {
        ("moves traffic", "Service", None),
        ("re-targets", "Service", None),
    }, changes
    third = up(project, "imageview")
    assert outputs(third)["apps"]["imageview"]["active_color"] == "green"

    # finish: green pinned by digest (no object changes), blue scaled down after.
    changes = apply(release.plan_finish("imageview", "imageview", outputs(third), None))
    assert of(changes) == {("scales", "Deployment", "blue"), ("deletes", "Image", None)}, changes
    app = yaml.safe_load(stack_file.read_text())["config"]["gke-bluegreen:apps"]["imageview"]
    assert app["idleReplicas"] == 1 and "previous" not in app["release"]
    assert (
        app["release"]["live"]["image"] == outputs(second)["apps"]["imageview"]["images"]["green"]
    )
    up(project, "imageview")

    # rollback after finish: blue still runs the previous release; traffic goes back to it.
    changes = apply(release.plan_promote("imageview", "imageview", rollback=True))
    assert of(changes) == {
        ("moves traffic", "Service", None),
        ("re-targets", "Service", None),
        ("scales", "Deployment", "blue"),
        ("scales", "Deployment", "green"),
        ("waits 30s", "Pause", None),
    }, changes


def test_dev_release_and_rollback_before_finish(project: Path) -> None:
    """dev builds both colors of kubia from one folder: the first start pins blue by digest, so a
    code change reaches green only."""
    first = up(project, "dev")
    changes = apply(
        release.plan_start("dev", "kubia", outputs(first), sets=["apps.kubia.colors.green.env.V=2"])
    )
    assert {(c.how, c.kind, c.color) for c in changes if c.color} <= {
        ("rolls", "Deployment", "green"),
        ("re-checks", "Job", "green"),
        ("deletes", "Job", "green"),
    }
    assert not [c for c in changes if c.color == "blue"]
    up(project, "dev")
    apply(release.plan_promote("dev", "kubia"))
    up(project, "dev")
    changes = apply(release.plan_promote("dev", "kubia", rollback=True))
    assert of(changes) == {("moves traffic", "Service", None), ("re-targets", "Service", None)}
    app = yaml.safe_load((project / "stacks/Pulumi.dev.yaml").read_text())["config"][
        "gke-bluegreen:apps"
    ]["kubia"]
    assert app["activeColor"] == "blue" and app["release"]["live"]["color"] == "blue"
    assert app["release"]["candidate"]["color"] == "green", "green can be promoted again"


@pytest.mark.parametrize(
    ("sets", "words"),
    [
        (["apps.imageview.env.DEBUG=1"], "refused by the program"),
        (["apps.imageview.activeColor=green"], "refused: Service webserver moves traffic"),
    ],
)
def test_a_start_that_would_touch_the_live_color_writes_nothing(
    project: Path, sets: list[str], words: str
) -> None:
    first = up(project, "imageview")
    before = (project / "stacks/Pulumi.imageview.yaml").read_text()
    step = release.plan_start("imageview", "imageview", outputs(first))
    step.file.write()
    pinned = (project / "stacks/Pulumi.imageview.yaml").read_text()
    with pytest.raises(ReleaseError, match=words):
        release.run_step(
            release.plan_start("imageview", "imageview", outputs(first), sets=sets),
            apply=False,
            out=print,
        )
    assert (project / "stacks/Pulumi.imageview.yaml").read_text() == pinned != before


def test_steps_out_of_order(project: Path) -> None:
    first = up(project, "imageview")
    with pytest.raises(ReleaseError, match="no recorded release"):
        release.plan_promote("imageview", "imageview")
    with pytest.raises(ReleaseError, match="nothing to finish"):
        release.plan_finish("imageview", "imageview", outputs(first), None)
    with pytest.raises(ReleaseError, match="not deployed yet"):
        release.plan_start("imageview", "imageview", {})
    with pytest.raises(ReleaseError, match="no app 'ghost'"):
        release.plan_start("imageview", "ghost", outputs(first))
    drifted = outputs(first)
    drifted["apps"]["imageview"]["active_color"] = "green"
    with pytest.raises(ReleaseError, match="the cluster serves green but the stack file says blue"):
        release.plan_start("imageview", "imageview", drifted)


def test_check_refuses_a_deployed_app_that_nothing_protects(project: Path) -> None:
    first = outputs(up(project, "imageview"))
    assert "no live color is recorded" in release.check("imageview", first)[0]
    apply(release.plan_start("imageview", "imageview", first))
    assert release.check("imageview", outputs(up(project, "imageview"))) == []
    assert release.check("imageview", {}) == [], "not deployed: nothing to protect yet"


@pytest.mark.parametrize(("status", "rolled_back"), [(200, False), (500, True)])
def test_promote_apply_checks_the_live_url_and_rolls_back(
    project: Path,
    monkeypatch: pytest.MonkeyPatch,
    http_stub: Callable[[Answer], str],
    status: int,
    rolled_back: bool,
) -> None:
    url = http_stub(lambda _path, _n: (status, "ok"))
    applied: list[str] = []

    def fake_up(stack: str, message: str) -> None:
        applied.append(message)
        up(project, stack)

    def fake_outputs(stack: str, _file: Path | None) -> release.Outputs:
        data = outputs(project / f"outputs-{stack}.json")
        data["apps"]["imageview"]["url"] = url
        return data

    monkeypatch.setattr(release, "pulumi_up", fake_up)
    monkeypatch.setattr(release, "read_outputs", fake_outputs)
    apply(release.plan_start("imageview", "imageview", outputs(up(project, "imageview"))))
    up(project, "imageview")
    lines: list[str] = []
    verification = release.Verification(requests=3, interval_s=0)
    if rolled_back:
        with pytest.raises(ReleaseError, match=r"promote rolled back: request 1/3 .* 500"):
            release.promote_and_verify("imageview", "imageview", None, verification, lines.append)
        assert [m.split(":")[0] for m in applied] == ["promote", "rollback"]
    else:
        release.promote_and_verify("imageview", "imageview", None, verification, lines.append)
        assert lines[-1].startswith("verified: 3 requests")
    app = yaml.safe_load((project / "stacks/Pulumi.imageview.yaml").read_text())["config"][
        "gke-bluegreen:apps"
    ]["imageview"]
    assert app["activeColor"] == ("blue" if rolled_back else "green")


def test_outputs_fail_closed(
    project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = tmp_path / "pulumi"
    fake.write_text("#!/bin/sh\necho 'error: getting outputs: 403 Forbidden' >&2\nexit 1\n")
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PULUMI", str(fake))
    with pytest.raises(
        ReleaseError, match="pulumi stack output failed: error: getting outputs: 403"
    ):
        release.read_outputs("imageview", None)
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    monkeypatch.setenv("PULUMI", "pulumi")
    with pytest.raises(ReleaseError, match="not on PATH"):
        release.read_outputs("imageview", None)
    assert os.environ["PATH"].endswith("empty")


def test_cli_bad_input_is_one_line(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for argv, words in (
        (["promote", "--stack", "nope", "--app", "x"], "no stack 'nope'"),
        (
            ["start", "--stack", "imageview", "--app", "imageview", "--outputs", "/nonexistent"],
            "not a JSON outputs file",
        ),
        (
            ["finish", "--stack", "imageview", "--app", "imageview", "--idle-replicas", "-1"],
            "from 0 to 1000",
        ),
    ):
        assert release.main(argv) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and words in err, err


def test_status_says_what_runs(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert release.main(["status", "--stack", "imageview"]) == 0
    out = capsys.readouterr().out
    assert "no release recorded" in out and "blue      runs src-" in out


def test_a_pulumi_cli_that_hangs_is_one_line(
    project: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    fake = tmp_path / "pulumi"
    fake.write_text("#!/bin/sh\nexec sleep 30\n")
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PULUMI", str(fake))
    monkeypatch.setattr(release, "PULUMI_TIMEOUT_S", 0.5)
    assert release.main(["check", "--stack", "imageview"]) == 2
    err = capsys.readouterr().err
    assert err == "error: stack output did not finish within 0.5 s; stopped it\n", err


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("config:\n  gke-bluegreen:apps: [unclosed\n", "cannot read it as YAML"),
        ("- a list\n- not a stack file\n", "must be a mapping"),
    ],
)
def test_a_stack_file_that_is_not_yaml_is_one_line(
    project: Path, capsys: pytest.CaptureFixture[str], text: str, words: str
) -> None:
    (project / "stacks/Pulumi.imageview.yaml").write_text(text)
    assert release.main(["promote", "--stack", "imageview", "--app", "imageview"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and words in err, err


def test_the_editor_refuses_what_it_cannot_round_trip(project: Path) -> None:
    """StackFile itself, whatever read the file before it."""
    path = project / "stacks/Pulumi.imageview.yaml"
    for text, words in (("a: [unclosed\n", "cannot read it as YAML"), ("- x\n", "a mapping")):
        path.write_text(text)
        with pytest.raises(ReleaseError, match=words):
            release.StackFile("imageview")


@pytest.mark.parametrize("app", ["", "imageview\n", "nope"])
def test_status_of_an_unknown_app_says_so(
    project: Path, capsys: pytest.CaptureFixture[str], app: str
) -> None:
    assert release.main(["status", "--stack", "imageview", "--app", app]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"no app {app!r}; apps: imageview" in err, err


def test_a_stack_file_that_cannot_be_replaced_stays_whole(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = project / "stacks/Pulumi.dev.yaml"
    before = path.read_text()
    file = release.StackFile("dev")
    file.config()["gke-bluegreen:region"] = "somewhere"

    def refuse(self: Path, target: Path) -> Path:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(Path, "replace", refuse)
    with pytest.raises(
        ReleaseError, match=r"cannot write Pulumi\.dev\.yaml: No space left on device"
    ):
        file.write()
    assert path.read_text() == before
    assert sorted(p.name for p in path.parent.iterdir()) == [
        "Pulumi.dev.yaml",
        "Pulumi.imageview.yaml",
    ]

"""infra/release/status.py: every app of a stack in one table and one JSON object (the stable
shape its docstring documents), the step each release is at, and the deploy check."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from infra.release import status
from infra.release.__main__ import main
from infra.release.finish import plan_finish
from infra.release.start import plan_start
from infra.release.switch import plan_promote
from tests.infra.release.harness import DIGEST, deployed, up
from tests.infra.release.stand_in import install

KEYS = {
    "app",
    "step",
    "next",
    "live",
    "candidate",
    "previous",
    "idle",
    "served",
    "allow_live_change",
    "canary",
}


def test_every_app_of_the_stack_is_one_row(project: Path) -> None:
    lines = status.table(status.statuses("dev", None, None))
    assert lines[0].split() == ["APP", "LIVE", "CANDIDATE", "IDLE", "STEP"]
    assert [line.split()[0] for line in lines[1:]] == ["py-web-server", "kubia", "node-app"]
    columns = lines[0].index("CANDIDATE")
    assert all(line[columns - 2 : columns] == "  " for line in lines), "aligned columns"
    kubia = lines[2].split()
    assert kubia[1] == "blue" and kubia[2].startswith("src-")
    assert kubia[3] == "(not" and lines[2].endswith("unreleased: next start")


def test_the_json_shape_is_the_documented_one(project: Path) -> None:
    document = status.as_json("dev", status.statuses("dev", None, None))
    assert document["version"] == status.JSON_VERSION == 1 and document["stack"] == "dev"
    assert [a["app"] for a in document["apps"]] == ["py-web-server", "kubia", "node-app"]
    kubia = document["apps"][1]
    assert set(kubia) == KEYS
    assert (kubia["step"], kubia["next"], kubia["candidate"], kubia["served"]) == (
        "unreleased",
        "start",
        None,
        None,
    )
    assert kubia["canary"] == {
        "weight": 0,
        "plan": [5, 25, 50, 100],
        "position": 0,
        "next": None,
        "next_weight": None,
    }
    assert document["apps"][0]["canary"] is None, "py-web-server is blue/green"
    assert set(kubia["live"]) == {"color", "image", "config", "pinned"}
    assert kubia["live"]["pinned"] is False and len(kubia["live"]["config"]) == 64
    assert (
        set(kubia["idle"]) == {"color", "image", "replicas"} and kubia["idle"]["color"] == "green"
    )


def test_each_step_of_a_release_shows(project: Path) -> None:
    """Status reads the record only: the steps are written without rendering them."""
    served = deployed("imageview")
    plan_start("imageview", "imageview", served).file.write()
    (row,) = status.statuses("imageview", "imageview", served)
    started = row.as_json()
    assert (started["step"], started["next"]) == ("started", "promote")
    assert started["candidate"]["color"] == "green" and started["live"]["pinned"] is True
    assert started["live"]["image"] == DIGEST and started["served"] == "blue"
    line = status.table([row])[1]
    assert " green src-" in line and line.endswith("started: next promote")

    plan_promote("imageview", "imageview").file.write()
    (row,) = status.statuses("imageview", None, served)
    promoted = row.as_json()
    assert (promoted["step"], promoted["live"]["color"], promoted["previous"]["color"]) == (
        "promoted",
        "green",
        "blue",
    )
    lines = status.table([row])
    assert lines[1].endswith("promoted, not applied: next promote --apply or rollback")
    assert "previous)" in lines[1] and promoted["next"] == "promote"
    assert lines[2] == (
        "DRIFT: imageview: NOT APPLIED: the stack file records the promote to green, but the "
        "cluster still serves blue (its `pulumi up` did not finish): run `promote --apply` again, "
        "or `rollback` to stay on blue"
    ), "the outputs are from before the promote was applied"
    (row,) = status.statuses("imageview", None, deployed("imageview", "green"))
    assert status.table([row])[1].endswith("promoted: next finish or rollback")

    plan_finish("imageview", "imageview", deployed("imageview", "green"), None).file.write()
    (row,) = status.statuses("imageview", None, None)
    assert (row.as_json()["step"], row.as_json()["next"]) == ("finished", "start")


def test_digests_are_cut_in_the_table_only() -> None:
    assert status.short(DIGEST) == "gcr.io/hello-docker/imageview@sha256:eeeeeeeeeeee"
    assert status.short("src-0123456789ab") == "src-0123456789ab"


def test_check_refuses_a_deployed_app_that_nothing_protects(project: Path) -> None:
    served = deployed("imageview")
    (problem,) = status.check("imageview", served)
    assert problem.startswith("imageview: deployed, but no release is recorded")
    assert problem.endswith("python -m infra.release start --stack imageview --app imageview")
    plan_start("imageview", "imageview", served).file.write()
    assert status.check("imageview", served) == []
    assert status.check("imageview", {}) == [], "not deployed: nothing to protect yet"
    moved = deployed("imageview", color="green")
    other = deployed("imageview", image="gcr.io/hello-docker/imageview@sha256:" + "1" * 64)
    assert [p.split(":")[1].strip() for p in status.check("imageview", moved)] == [
        "the cluster serves green, but the stack file says blue is live"
    ]
    (problem,) = status.check("imageview", other)
    assert problem.startswith("imageview: the cluster runs gcr.io/hello-docker/imageview@sha256:1")


# ------------------------------------------------------------------ through the command line


def test_allow_live_change_is_loud_and_fails_the_check(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    served = up(project, "imageview")
    assert (
        main(["start", "--stack", "imageview", "--app", "imageview", "--outputs", str(served)]) == 0
    )
    path = project / "stacks/Pulumi.imageview.yaml"
    path.write_text(
        path.read_text().replace(
            "      release:\n", "      release:\n        allowLiveChange: true\n"
        )
    )
    capsys.readouterr()
    assert main(["status", "--stack", "imageview"]) == 0
    out = capsys.readouterr().out
    assert "WARNING: imageview: release.allowLiveChange is ON: nothing stops a deploy from " in out
    assert main(["status", "--stack", "imageview", "--json"]) == 0
    (app,) = json.loads(capsys.readouterr().out)["apps"]
    assert app["allow_live_change"] is True
    assert main(["check", "--stack", "imageview", "--outputs", str(served)]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("unsafe: imageview: release.allowLiveChange is ON")
    assert lines[-1] == "imageview: not safe to deploy"


@pytest.mark.parametrize(
    ("mode", "words"),
    [
        ("empty", "pulumi stack output printed nothing (not even {})"),
        ("garbage", "pulumi stack output did not print JSON"),
        ("foreign", "the outputs are of cluster 'someone-elses', and stack imageview deploys"),
    ],
)
def test_check_fails_on_outputs_it_cannot_read(
    project: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    mode: str,
    words: str,
) -> None:
    install(project, monkeypatch).queue("output", mode)
    assert main(["check", "--stack", "imageview"]) == 2
    captured = capsys.readouterr()
    assert "safe to deploy" not in captured.out
    assert captured.err.count("\n") == 1 and words in captured.err, captured.err


def test_a_stack_never_deployed_is_said_so(
    project: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    install(project, monkeypatch)  # no up yet: `pulumi stack output --json` prints {}
    assert main(["check", "--stack", "imageview"]) == 0
    assert capsys.readouterr().out.splitlines() == [
        "imageview: nothing is deployed yet (its outputs are {}): nothing live to guard",
        "imageview: safe to deploy",
    ]

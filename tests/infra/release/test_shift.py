"""infra/release/shift.py: a shift and an abort on the canary apps of dev (kubia) and prod
(imageview) change the app's HTTPRoute and nothing else, through run_step's own diff; every bad
input is one line and writes nothing."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from infra.paths import ROOT
from infra.release.__main__ import main
from infra.release.changes import Change, How
from infra.release.errors import ReleaseError
from infra.release.run import show
from infra.release.shift import plan_abort, plan_shift, route_only
from infra.release.start import plan_start
from infra.release.switch import plan_promote
from tests.helpers import manifest
from tests.infra.release.harness import SECURE, app_node, apply, of, outputs, up

#: The canary app of each stack that has one.
CANARIES = {"dev": "kubia", "prod": "imageview"}


@pytest.fixture
def canary_project(project: Path) -> Path:
    """The release tests' project, with prod's stack file too (its secrets set)."""
    prod = project / "stacks/Pulumi.prod.yaml"
    shutil.copy(ROOT / "stacks/Pulumi.prod.yaml", prod)
    prod.write_text(
        prod.read_text()
        + "  gke-bluegreen:secrets:\n    imageview:\n"
        + "".join(f"      {k}:\n        secure: {v['secure']}\n" for k, v in SECURE.items())
    )
    return project


def _started(project: Path, stack: str) -> str:
    """Starts a release of the stack's canary app (a new config on the idle color) and deploys
    it; returns the app."""
    app = CANARIES[stack]
    sets = [f"apps.{app}.colors.green.env.RELEASE=2"]
    apply(plan_start(stack, app, outputs(up(project, stack)), sets=sets))
    up(project, stack)
    return app


def _route_weights(stack: str, app: str) -> dict[str, int]:
    from infra.release import rendering

    route = manifest(rendering.render(stack), "HTTPRoute", app if app == "kubia" else "webserver")
    weighted = route["spec"]["rules"][1]["backendRefs"]
    return {ref["name"]: ref["weight"] for ref in weighted}


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_a_shift_and_an_abort_change_the_route_and_nothing_else(
    canary_project: Path, stack: str
) -> None:
    app = _started(canary_project, stack)
    prefix = "kubia" if app == "kubia" else "webserver"
    step = plan_shift(stack, app)
    changes, refusals = show(step)
    assert refusals == []
    assert [(c.kind, c.name, c.how, c.app) for c in changes] == [
        ("HTTPRoute", prefix, How.UPDATES, app)
    ], changes
    assert step.summary.startswith(f"shift: 5 % of {app}'s requests to the candidate green")
    step.file.write()
    assert app_node(canary_project, stack, app)["release"]["weight"] == 5
    assert _route_weights(stack, app) == {f"{prefix}-blue": 95, f"{prefix}-green": 5}

    # The next shift follows the plan; an explicit weight may go anywhere 1-99.
    assert of(apply(plan_shift(stack, app))) == {("updates", "HTTPRoute", None)}
    assert app_node(canary_project, stack, app)["release"]["weight"] == 25
    assert of(apply(plan_shift(stack, app, 60))) == {("updates", "HTTPRoute", None)}

    abort = plan_abort(stack, app)
    changes = apply(abort)
    assert [(c.kind, c.how) for c in changes] == [("HTTPRoute", How.UPDATES)]
    node = app_node(canary_project, stack, app)
    assert "weight" not in node["release"], "0 is what an absent weight means"
    assert node["release"]["candidate"]["color"] == "green", "the candidate stays recorded"
    assert _route_weights(stack, app) == {f"{prefix}-blue": 100, f"{prefix}-green": 0}
    # A shift may follow an abort: the plan starts over.
    assert plan_shift(stack, app).summary.startswith(f"shift: 5 % of {app}'s")


def test_the_route_only_rule_refuses_anything_but_the_apps_route() -> None:
    refusal = route_only("shift", "dev", "kubia", {"kubia": "blue"})
    assert refusal(Change("HTTPRoute", "kubia", How.UPDATES, None, app="kubia")) is None
    for change in (
        Change("HTTPRoute", "other", How.UPDATES, None, app="other"),
        Change("HTTPRoute", "kubia", How.DELETES, None, app="kubia"),
        Change("Deployment", "kubia-green", How.SCALES, "green", app="kubia"),
        Change("Service", "kubia-http", How.MOVES_TRAFFIC, "blue", app="kubia"),
    ):
        why = refusal(change)
        assert why is not None and "a shift changes only kubia's HTTPRoute" in why, change


def test_bad_inputs_are_one_line_and_write_nothing(
    canary_project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    dev = canary_project / "stacks/Pulumi.dev.yaml"
    before = dev.read_text()

    def refused(argv: list[str]) -> str:
        with pytest.raises(SystemExit) as caught:
            main(argv)
        assert caught.value.code == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1, err
        return err

    base = ["shift", "--stack", "dev", "--app", "kubia", "--weight"]
    assert "the candidate back to no share is `abort`; --weight takes 1-99" in refused([*base, "0"])
    assert "is `promote`" in refused([*base, "100"])
    assert "not a whole number from 1 to 99" in refused([*base, "5.5"])
    assert "not a whole number from 1 to 99" in refused([*base, "-3"])
    assert "not a whole number from 1 to 99" in refused([*base, "250"])

    def error(argv: list[str]) -> str:
        assert main(argv) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1, err
        return err

    assert "has no candidate to give a share to: `start` a release first" in error(
        ["shift", "--stack", "dev", "--app", "kubia"]
    )
    assert "is a blue/green app" in error(["shift", "--stack", "dev", "--app", "node-app"])
    assert "is a blue/green app" in error(["abort", "--stack", "dev", "--app", "node-app"])
    assert "no such app" in error(["abort", "--stack", "dev", "--app", "nope"])
    assert dev.read_text() == before


def test_the_plans_end_is_promote_and_a_promoted_canary_takes_no_shift(
    canary_project: Path,
) -> None:
    app = _started(canary_project, "dev")
    for _ in range(3):
        apply(plan_shift("dev", app))
    assert app_node(canary_project, "dev", app)["release"]["weight"] == 50
    with pytest.raises(ReleaseError, match=r"the last step of its plan \(5, 25, 50, 100\)"):
        plan_shift("dev", app)
    changes = apply(plan_promote("dev", app))
    assert ("updates", "HTTPRoute", None) in of(changes)
    node = app_node(canary_project, "dev", app)
    assert "weight" not in node["release"] and node["activeColor"] == "green"
    assert _route_weights("dev", app) == {"kubia-blue": 0, "kubia-green": 100}
    with pytest.raises(ReleaseError, match="was promoted"):
        plan_shift("dev", app, 10)
    with pytest.raises(ReleaseError, match="was promoted"):
        plan_abort("dev", app)


def test_status_shows_the_weight_and_the_plan_position(
    canary_project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    app = _started(canary_project, "dev")
    apply(plan_shift("dev", app))
    apply(plan_shift("dev", app))
    lines: list[str] = []
    assert main(["status", "--stack", "dev", "--app", app], out=lines.append) == 0
    (row,) = [ln for ln in lines if ln.startswith("kubia ")]
    assert row.endswith("started, 25 % (step 2 of 4): next shift (50 %)"), row
    lines.clear()
    assert main(["status", "--stack", "dev", "--json"], out=lines.append) == 0
    data = json.loads("\n".join(lines))
    assert data["version"] == 1
    entries = {a["app"]: a for a in data["apps"]}
    assert entries["kubia"]["canary"] == {
        "weight": 25,
        "plan": [5, 25, 50, 100],
        "position": 2,
        "next": "shift",
        "next_weight": 50,
    }
    assert entries["kubia"]["next"] == "promote", "the release-level next step is unchanged"
    assert entries["node-app"]["canary"] is None


def test_a_start_while_the_candidate_has_a_share_is_refused(canary_project: Path) -> None:
    app = _started(canary_project, "dev")
    apply(plan_shift("dev", app, 25))
    deployed = outputs(up(canary_project, "dev"))
    with pytest.raises(ReleaseError, match=r"kubia's candidate green takes 25 % of the requests"):
        plan_start("dev", app, deployed, sets=["apps.kubia.colors.green.env.RELEASE=3"])
    apply(plan_abort("dev", app))
    apply(
        plan_start(
            "dev",
            app,
            outputs(up(canary_project, "dev")),
            sets=["apps.kubia.colors.green.env.RELEASE=3"],
        )
    )
    assert app_node(canary_project, "dev", app)["release"]["candidate"]["color"] == "green"

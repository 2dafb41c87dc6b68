"""infra/release/canary_run.py, end to end offline: a whole canary release of kubia on dev through
the command line (start → run: shifts with waits and analysis → promote → finish), the stand-in
``$PULUMI`` driving the Kubernetes API stub (the rendered route, its status lagging) and the
Gateway stand-in in front of two real kubia processes; and each way a run aborts by itself,
leaving the stack file whole and the live color untouched."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from infra.paths import ROOT
from infra.release.rendering import settings_of
from tests.infra.canary.stubs import BackendData
from tests.infra.release.canary_world import Scenario

START = ["start", "--stack", "dev", "--app", "kubia", "--set"]
START += ["apps.kubia.colors.green.env.RELEASE=2", "--apply"]
RUN = ["run", "--stack", "dev", "--app", "kubia", "--apply", "--route-poll", "1"]


@pytest.fixture
def node() -> None:
    import shutil

    from tests.prerequisites import unavailable

    if not shutil.which("node"):
        unavailable("node is not installed: the kubia app needs it")


@pytest.fixture
def scenario(tmp_path: Path, node: None, request: pytest.FixtureRequest) -> Iterator[Scenario]:
    options = getattr(request, "param", {})
    with Scenario(tmp_path / "project", **options) as s:
        yield s


def _release(s: Scenario) -> dict[str, object]:
    document = yaml.safe_load(s.stack_text())
    node: dict[str, object] = document["config"]["gke-bluegreen:apps"]["kubia"]
    return node


def _changes(lines: list[str]) -> list[str]:
    """Every "pulumi up will" line the tool printed."""
    return [ln.strip() for ln in lines if re.match(r"  [a-z-]+( [a-z]+)? +[A-Z]", ln)]


def _started(s: Scenario) -> None:
    lines: list[str] = []
    assert s.tool(START, lines.append) == 0, lines


def test_a_whole_canary_release_of_kubia_on_dev(scenario: Scenario) -> None:
    s = scenario
    _started(s)
    lines: list[str] = []
    assert s.tool(RUN, lines.append) == 0, "\n".join(lines)
    text = "\n".join(lines)
    # Each weight reached the route's spec, its status lagged, and the split was seen.
    assert s.world.changes == [
        {"kubia-blue": 100, "kubia-green": 0},
        {"kubia-blue": 95, "kubia-green": 5},
        {"kubia-blue": 75, "kubia-green": 25},
        {"kubia-blue": 50, "kubia-green": 50},
        {"kubia-blue": 0, "kubia-green": 100},
    ]
    assert text.count("the controller has not processed the change yet") == 4
    for step, weight in (("1/4", 5), ("2/4", 25), ("3/4", 50), ("4/4", 100)):
        assert f"step {step}: weight {weight} % in effect: green " in text, step
    assert text.count("analysis pass over 60 s: green 1000 requests") == 3
    # Before the promote, every change is the route; the live color's Deployment is in none.
    shifts = _changes(lines[: next(i for i, ln in enumerate(lines) if "promote (100 %)" in ln)])
    assert shifts == ["updates        HTTPRoute kubia"] * 3
    table = lines[lines.index(next(ln for ln in lines if ln.startswith("STEP  WEIGHT"))) :]
    assert [row.split()[0] for row in table[1:5]] == ["1/4", "2/4", "3/4", "4/4"]
    assert table[-1].startswith("kubia: every request on green, recorded as live")
    summary = Path(os.environ["GITHUB_STEP_SUMMARY"]).read_text()
    assert summary.startswith("### Canary release of kubia") and "| 3/4 | 50 % |" in summary
    node = _release(s)
    assert node["activeColor"] == "green"
    record = node["release"]
    assert isinstance(record, dict) and "weight" not in record
    assert record["live"]["color"] == "green" and record["previous"]["color"] == "blue"

    lines.clear()
    assert s.tool(["finish", "--stack", "dev", "--app", "kubia", "--apply"], lines.append) == 0
    assert _changes(lines)[0] == "scales         Deployment kubia-blue (blue)"
    lines.clear()
    assert s.tool(["status", "--stack", "dev", "--app", "kubia", "--json"], lines.append) == 0
    (entry,) = json.loads("\n".join(lines))["apps"]
    assert (entry["step"], entry["live"]["color"], entry["canary"]["weight"]) == (
        "finished",
        "green",
        0,
    )


BACK = "every request is back on blue (weight 0: route current, split seen)"


def _aborted(s: Scenario, argv: list[str], reason: str, where: str = BACK) -> list[str]:
    """A run that aborts by itself: exit 1, the reason with its numbers, weight 0 again (the
    route too), the candidate still recorded, blue live and never in a change."""
    _started(s)
    before = settings_of("dev").apps["kubia"]
    lines: list[str] = []
    assert s.tool(argv, lines.append) == 1, "\n".join(lines)
    assert lines[-1].startswith("error: canary of kubia aborted: ") and reason in lines[-1]
    assert where in lines[-1]
    after = settings_of("dev").apps["kubia"]  # the stack file is whole: the program reads it
    assert after.release.weight == 0 and after.active_color == "blue"
    assert after.release.candidate == before.release.candidate
    assert after.release.live == before.release.live
    assert set(_changes(lines)) == {"updates        HTTPRoute kubia"}
    s.world.sync()
    assert s.world.changes[-1] == {"kubia-blue": 100, "kubia-green": 0}
    return lines


@pytest.mark.parametrize("scenario", [{"failing": True}], indirect=True)
def test_a_failing_analysis_aborts_by_itself(scenario: Scenario) -> None:
    argv = [*RUN, "--policy-pack", "policy"]
    lines = _aborted(scenario, argv, "5xx ratio 10.00 % (100/1000) over max5xxRatio 1 %")
    assert any(ln.startswith("1/4   5 %") and " FAIL " in ln for ln in lines)
    ups = [c for c in scenario.stand_in.calls() if c.startswith("up ")]
    assert ups[-2:] == ["up dev policy=policy"] * 2, "the shift's and the abort's, policed"


@pytest.mark.parametrize("scenario", [{"never_current": True}], indirect=True)
def test_a_route_that_never_becomes_current_aborts_by_itself(scenario: Scenario) -> None:
    lines = _aborted(
        scenario,
        [*RUN, "--route-timeout", "60"],
        "HTTPRoute default/kubia not current after 60 s: Gateway default/gke-bluegreen "
        "(sectionName http) (controller networking.gke.io/gateway): Accepted observed "
        "generation 1",
        "weight 0 is applied (its `pulumi up` succeeded) but NOT CONFIRMED in effect "
        "(RouteNotReady)",
    )
    assert any(ln.startswith("1/4   5 %") and "NOT CURRENT" in ln for ln in lines)


def test_an_analysis_without_enough_requests_holds_then_aborts(scenario: Scenario) -> None:
    thin = BackendData({200: 20}, 80.0)
    scenario.monitoring.backends = dict.fromkeys(scenario.monitoring.backends, thin)
    lines = _aborted(
        scenario,
        [*RUN, "--inconclusive-timeout", "90"],
        "the analysis stayed inconclusive for 90 s after it could first decide (bound 90 s)",
    )
    assert "fewer than minRequests 100: not enough to judge" in lines[-1]


def test_sigterm_mid_run_aborts_the_canary(scenario: Scenario) -> None:
    """SIGTERM (a CI job cancelled) while the run waits for the first shift's route: the run
    stops at its next safe point, aborts (weight 0, one `pulumi up`) and exits 130."""
    s = scenario
    _started(s)
    read = s.kube.routes[("default", "kubia")]
    sent: list[int] = []

    def read_then_terminate(n: int) -> tuple[int, dict[str, object]]:
        answer = read(n)
        if s.world.generation == 2 and not sent:
            sent.append(n)
            os.kill(os.getpid(), signal.SIGTERM)
        return answer

    s.kube.routes[("default", "kubia")] = read_then_terminate
    before = signal.getsignal(signal.SIGTERM)
    lines: list[str] = []
    assert s.tool(RUN, lines.append) == 130, "\n".join(lines)
    assert lines[-1] == (
        f"interrupted: the canary of kubia was aborted: {BACK}; the candidate stays recorded"
    )
    assert any("SIGTERM: aborting the canary (weight 0)" in ln for ln in lines)
    assert any(ln.startswith("1/4   5 %") and "INTERRUPTED (SIGTERM)" in ln for ln in lines)
    assert settings_of("dev").apps["kubia"].release.weight == 0
    assert s.world.changes[-1] == {"kubia-blue": 100, "kubia-green": 0}
    assert signal.getsignal(signal.SIGTERM) == before, "the handler before the run is back"


def test_sigterm_to_the_tool_process_aborts_and_exits_130(scenario: Scenario) -> None:
    """The tool as its own process, with the house signal handling (infra.cli.run) and the
    real clock: its progress reaches a pipe as it happens (the hold's line is read before the
    run ends), and a SIGTERM then (a CI job cancelled) aborts the canary: exit 130."""
    s = scenario
    _started(s)
    code = (
        "import pathlib, sys, infra.paths\n"
        f"infra.paths.PROJECT_FILE = pathlib.Path({str(s.folder / 'Pulumi.yaml')!r})\n"
        "from infra.cli import run\n"
        "from infra.release.__main__ import main\n"
        "run(lambda: main(sys.argv[1:]), 'see the stack file')\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}  # as in CI
    proc = subprocess.Popen(
        [sys.executable, "-c", code, *RUN, "--pause", "600"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    # A line held in the tool's buffer would block this read: the watchdog ends that.
    watchdog = threading.Timer(60, proc.kill)
    watchdog.start()
    seen: list[str] = []
    for line in proc.stdout:
        seen.append(line.rstrip("\n"))
        if "holding 600 s at 5 %" in line:
            break
    watchdog.cancel()
    assert seen and "holding 600 s at 5 %" in seen[-1], seen
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, (out, err)
    assert err.strip().splitlines()[-1] == (
        f"interrupted: the canary of kubia was aborted: {BACK}; the candidate stays recorded"
    )
    assert "SIGTERM: aborting the canary (weight 0) before stopping" in out
    assert settings_of("dev").apps["kubia"].release.weight == 0


def test_bad_inputs_are_one_line_and_write_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from infra.release.__main__ import main
    from tests.infra.release.harness import make_project

    project = make_project(tmp_path, monkeypatch)
    monkeypatch.setenv("PULUMI", "false")
    path = project / "stacks/Pulumi.dev.yaml"
    before = path.read_text()
    cases = {
        ("run", "--stack", "dev", "--app", "kubia"): "run takes --apply",
        ("run", "--stack", "dev", "--app", "node-app", "--apply"): "is a blue/green app",
        ("run", "--stack", "dev", "--app", "kubia", "--apply"): "has no candidate",
        (*RUN, "--plan", "5,50,25,100"): "allowed is weights 1-100, strictly increasing",
        (*RUN, "--plan", "5,50"): "ending at 100",
        (*RUN, "--plan", "five"): "allowed is weights",
        (*RUN, "--pause", "-1"): "is not a whole number from 0 to 86400",
        (*RUN, "--split-tolerance", "0"): "is not a whole number from 1 to 50",
    }
    for argv, expected in cases.items():
        try:
            code = main(list(argv))
        except SystemExit as exit_:
            code = int(exit_.code or 0)
        err = capsys.readouterr().err
        assert code == 2 and err.count("\n") == 1 and expected in err, (argv, err)
    assert path.read_text() == before


def test_the_plan_left_resumes_at_the_current_weight() -> None:
    from infra.release.canary_run import check_plan

    assert check_plan((5, 25, 50, 100), 0) == (5, 25, 50, 100)
    assert check_plan((5, 25, 50, 100), 25) == (25, 50, 100), "25 was never judged to pass"
    assert check_plan((5, 25, 50, 100), 30) == (50, 100)

"""infra/e2e/__main__.py, driven as CI runs it: ``python -m infra.e2e`` from a copy of the
project, the real release tool as its steps, stand-ins for `pulumi`, kubectl and the live URL
(tests/infra/e2e/standins.py). A whole release passes; a request that fails during a switch, a
broken candidate that deploys, a cluster that disagrees and bad input each fail, and the last
two change nothing."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest
import yaml

from infra.e2e.__main__ import build_parser
from tests.infra.e2e.conftest import APP, STACK, World

FAST = ("--stack", STACK, "--app", APP, "--rate", "20", "--verify-requests", "1")


def app_node(world: World) -> dict[str, object]:
    document = yaml.safe_load(world.stack_file())
    node: dict[str, object] = document["config"]["gke-bluegreen:apps"][APP]
    return node


def test_every_option_explains_itself() -> None:
    parser = build_parser()
    assert parser.description and parser.epilog and "exit status" in parser.epilog
    for option in parser._actions:
        if not isinstance(option, argparse._HelpAction):
            assert option.help, f"{option.option_strings} has no help"


def test_a_whole_release_passes(world: World, tmp_path: Path) -> None:
    report = tmp_path / "report.json"
    done = world.run(*FAST, "--report", str(report))
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert done.stdout.strip().splitlines()[-1].startswith("e2e passed: 6 steps")
    data = json.loads(report.read_text())
    assert data["passed"] is True and data["failed"] == 0 and data["url"] == world.url + "/"
    assert [s["step"] for s in data["steps"]] == [
        "start",
        "promote",
        "rollback",
        "promote again",
        "finish",
        "start of a candidate answering 500 (blue)",
    ]
    assert all(s["requests"] >= 1 and s["failed"] == 0 for s in data["steps"])
    assert [s["exit"] == 0 for s in data["steps"]] == [True] * 5 + [False]
    # Where it leaves the stack: green live and pinned, blue the failed candidate.
    node = app_node(world)
    assert node["activeColor"] == "green"
    release = node["release"]
    assert isinstance(release, dict)
    assert release["live"]["color"] == "green" and release["candidate"]["color"] == "blue"
    model = world.model()
    assert model["services"]["kubia-http"]["color"] == "green"
    blue_jobs = [j for j in model["jobs"] if j["app"] == APP and j["color"] == "blue"]
    assert blue_jobs and blue_jobs[-1]["failed"] is True


def test_a_request_that_fails_during_a_switch_fails_the_run(world: World, tmp_path: Path) -> None:
    # The live URL answers 503 for a while after the first update: a switch that drops requests.
    report = tmp_path / "report.json"
    done = world.run(*FAST, "--report", str(report), STANDIN_OUTAGE_SECONDS="1.5")
    assert done.returncode == 1, done.stdout[-3000:]
    assert done.stderr.startswith("error: e2e failed at the start: ") and "503" in done.stderr
    data = json.loads(report.read_text())
    assert data["passed"] is False and [s["step"] for s in data["steps"]] == ["start"]
    assert data["steps"][0]["failed"] >= 1
    assert {f["step"] for f in data["failures"]} == {"start"}


def test_a_candidate_answering_500_that_deploys_fails_the_run(world: World) -> None:
    # A cluster whose smoke Jobs pass whatever the candidate answers.
    done = world.run(*FAST, STANDIN_SMOKE_FAILS_WITH="")
    assert done.returncode == 1, done.stdout[-3000:]
    assert "error: e2e failed at the start of a candidate answering 500" in done.stderr
    assert "the update succeeded with a candidate that answers 500" in done.stderr
    assert "no smoke Job of blue failed during it" in done.stderr


def test_a_cluster_that_disagrees_stops_before_any_step(world: World) -> None:
    before = world.stack_file()
    done = world.run(*FAST, STANDIN_KUBECTL_SAYS="green")
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and "the live color is not agreed" in done.stderr
    assert "kubia-http: green" in done.stderr and done.stderr.rstrip().endswith("nothing changed")
    assert world.stack_file() == before and world.model()["jobs"] == []


def test_a_release_under_way_stops_before_any_step(world: World) -> None:
    started = world.tool("infra.release", "start", "--stack", STACK, "--app", APP)
    assert started.returncode == 0, started.stderr
    before = world.stack_file()
    done = world.run(*FAST)
    assert done.returncode == 2
    assert "a release of kubia is under way (status: started)" in done.stderr
    assert world.stack_file() == before


def test_a_live_url_that_fails_stops_before_any_step(world: World) -> None:
    before = world.stack_file()
    world.edit(outage_until=4_000_000_000.0)
    done = world.run(*FAST)
    assert done.returncode == 2
    assert f"the live URL {world.url}/ fails before any step: answered 503" in done.stderr
    assert world.stack_file() == before


def test_minikube_gives_no_url_and_the_error_says_how_to_get_one(world: World) -> None:
    model = world.model()
    model["outputs"]["apps"][APP]["url"] = ""
    world.edit(outputs=model["outputs"])
    done = world.run(*FAST)
    assert done.returncode == 2 and done.stderr.count("\n") == 1
    assert '--url "$(minikube service kubia-http --url)"' in done.stderr


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (("--rate", "0"), "argument --rate: '0' is not a whole number from 1 to 50"),
        (("--rate", "2.5"), "argument --rate: '2.5' is not a whole number from 1 to 50"),
        (("--max-seconds", "59"), "is not a whole number from 60 to 86400"),
        (("--release-env", "1X=y"), "'1X=y' is not NAME=VALUE"),
        (("--broken-env", "NODE_OPTIONS"), "'NODE_OPTIONS' is not NAME=VALUE"),
        (("--url", "ftp://example.test"), "is not a URL: http://HOST[:PORT]"),
        (("--url", "http://127.0.0.1:8080/x"), "give the path with --path"),
        (("--url", "http://127.0.0.1:99999"), "the port is not a number"),
        (("--path", "healthz"), "--path 'healthz': an absolute URL path"),
        (("--stack", "nope"), "no stack file stacks/Pulumi.nope.yaml: stacks are"),
        (("--app", "nope"), "has no app 'nope' (its apps: py-web-server, kubia, node-app)"),
    ],
)
def test_bad_input_is_one_line_and_changes_nothing(
    world: World, argv: tuple[str, ...], says: str
) -> None:
    before = world.stack_file()
    done = world.run(*FAST, *argv)
    assert done.returncode == 2, done.stdout
    assert done.stderr.count("\n") == 1 and done.stderr.startswith("error: "), done.stderr
    assert says in done.stderr, done.stderr
    assert world.stack_file() == before and world.model()["jobs"] == []


def test_no_kubectl_is_one_line(world: World, tmp_path: Path) -> None:
    done = world.run(*FAST, KUBECTL=str(tmp_path / "no-such-kubectl"))
    assert done.returncode == 2
    assert done.stderr == "error: kubectl is not on PATH: install it or set $KUBECTL to it\n"

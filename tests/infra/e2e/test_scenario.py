"""infra/e2e/scenario.py: the steps a run takes from either live color, the agreement check
(who disagrees is named), what makes a report pass, and the broken candidate's NODE_OPTIONS on a
real Node app (kubia): 500 on the path, its probes unaffected. The whole run is driven in
test___main__.py."""

from __future__ import annotations

import dataclasses
import os
import shutil
import socket
import subprocess
import time
import urllib.error
import urllib.request
from typing import Any

import pytest

from infra.e2e import scenario, tool
from infra.e2e.cluster import Kubectl
from infra.e2e.load import Failure, Tally
from infra.e2e.scenario import Outcome, Plan, Report, Step, agreement, answers_500, steps
from infra.paths import ROOT
from tests.prerequisites import unavailable

PLAN = Plan(
    stack="local",
    app="kubia",
    service="kubia-http",
    release_env=("E2E_RELEASE", "r1"),
    broken_env=("NODE_OPTIONS", "--import=x"),
    verify_requests=None,
    step_timeout_s=60,
    settle_s=5,
)


def test_a_release_from_blue() -> None:
    at = "apps.kubia.colors"
    assert steps(PLAN, "blue", "green") == [
        Step("start", "start", ("--set", f"{at}.green.env.E2E_RELEASE=r1"), True, "blue",
             "started"),
        Step("promote", "promote", (), True, "green", "promoted"),
        Step("rollback", "rollback", (), True, "blue", "started"),
        Step("promote again", "promote", (), True, "green", "promoted"),
        Step("finish", "finish", (), True, "green", "finished"),
        Step(
            "start of a candidate answering 500 (blue)",
            "start",
            ("--set", f"{at}.blue.env.NODE_OPTIONS=--import=x"),
            False,
            "green",
            "started",
        ),
    ]  # fmt: skip


def test_a_release_from_green_with_verify_requests() -> None:
    plan = dataclasses.replace(PLAN, verify_requests=3)
    taken = steps(plan, "green", "blue")
    assert taken[0].extra == ("--set", "apps.kubia.colors.blue.env.E2E_RELEASE=r1")
    assert taken[1].extra == taken[3].extra == ("--verify-requests", "3")
    assert [s.live for s in taken] == ["green", "blue", "green", "blue", "blue", "blue"]
    assert taken[-1].extra == ("--set", "apps.kubia.colors.green.env.NODE_OPTIONS=--import=x")


class Says(Kubectl):
    """kubectl whose live Service selects ``color``."""

    def __init__(self, color: str) -> None:
        super().__init__("kubectl")
        object.__setattr__(self, "color", color)

    def served(self, service: str) -> str:
        return str(self.__dict__["color"])


def with_status(monkeypatch: pytest.MonkeyPatch, file: str, live: str, served: Any) -> None:
    entry = {"app": "kubia", "step": "finished", "live": {"color": live}, "served": served}
    monkeypatch.setattr(tool, "status", lambda stack, app: entry)
    monkeypatch.setattr(tool, "recorded", lambda stack, app: tool.Recorded(file, "kubia-http"))


def test_everyone_agrees(monkeypatch: pytest.MonkeyPatch) -> None:
    with_status(monkeypatch, "green", "green", "green")
    color, entry = agreement(PLAN, Says("green"), "green")
    assert color == "green" and entry["step"] == "finished"
    assert agreement(PLAN, Says("green"), None)[0] == "green"


@pytest.mark.parametrize(
    ("cluster", "file", "live", "served", "expected"),
    [
        ("blue", "green", "green", "green", None),
        ("green", "blue", "green", "green", None),
        ("green", "green", "blue", "green", None),
        ("green", "green", "green", None, None),
        ("green", "green", "green", "green", "blue"),
    ],
)
def test_who_disagrees_is_named(
    monkeypatch: pytest.MonkeyPatch,
    cluster: str,
    file: str,
    live: str,
    served: str | None,
    expected: str | None,
) -> None:
    with_status(monkeypatch, file, live, served)
    with pytest.raises(ValueError) as caught:
        agreement(PLAN, Says(cluster), expected)
    message = str(caught.value)
    assert message.startswith("the live color is not agreed")
    assert (
        f"the cluster's Service kubia-http: {cluster}, stacks/Pulumi.local.yaml activeColor: "
        f"{file}, status --json live: {live}, status --json served: {served}"
    ) in message
    assert (f"(expected {expected})" in message) is (expected is not None)


def complete(**tally: Any) -> Report:
    report = Report("local", "kubia", "http://127.0.0.1:1/", planned=2)
    report.outcomes = [Outcome("start", 0), Outcome("promote", 0)]
    report.tally = Tally(**tally)
    return report


def test_a_report_passes_only_when_complete_and_clean() -> None:
    assert complete().passed
    assert complete(sent={"start": 3}).as_json()["passed"] is True
    assert not complete(failures=[Failure("before the first step", 0.1, "answered 503")]).passed
    assert not complete(stopped="it reached --max-requests 5").passed
    short = complete()
    short.outcomes.pop()
    assert not short.passed
    failed = complete()
    failed.outcomes[1].problems.append("the promote failed (exit 1)")
    assert not failed.passed and failed.as_json()["steps"][1]["problems"]
    assert not Report("local", "kubia", "u").passed, "a run that planned nothing did not pass"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def status_of(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return int(response.status)
    except urllib.error.HTTPError as err:
        return err.code


@pytest.mark.parametrize(("path", "broken", "fine"), [("/", "/", "/nope"), ("/x", "/x", "/")])
def test_the_broken_candidate_answers_500_on_its_path_and_its_probes_pass(
    path: str, broken: str, fine: str
) -> None:
    node = shutil.which("node")
    if node is None:
        unavailable("node is not installed: the broken candidate is a Node app")
    port = free_port()
    env = {**os.environ, "PORT": str(port), "NODE_OPTIONS": answers_500(path)}
    app = subprocess.Popen(
        [node, "kubia/app.js"],
        cwd=ROOT / "apps",
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                assert app.poll() is None, f"kubia exited {app.returncode} with NODE_OPTIONS"
                time.sleep(0.05)
        assert status_of(base + broken) == 500
        assert status_of(base + broken + "?q=1") == 500
        assert status_of(base + "/readyz") == 200
        assert status_of(base + "/healthz") == 200
        assert status_of(base + fine) in (200, 404)
    finally:
        app.terminate()
        app.wait(10)


def test_the_broken_value_is_one_node_option_without_spaces() -> None:
    value = answers_500("/a b")
    assert value.startswith("--import=data:text/javascript;base64,")
    assert not any(c.isspace() for c in value)


def test_a_run_that_cannot_start_changes_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    with_status(monkeypatch, "blue", "blue", "blue")
    monkeypatch.setattr(tool, "release_step", lambda *a: pytest.fail("a step ran"))

    class NoAnswer:
        rate = 1.0

        def request_once(self) -> str:
            return "answered 502, expected 200"

    with pytest.raises(scenario.PreconditionError, match="fails before any step: answered 502"):
        scenario.run(PLAN, Says("blue"), NoAnswer(), "http://127.0.0.1:1/", print)  # type: ignore[arg-type]

"""The release the driver takes a deployed app through, and what must hold after each step.

With blue live (L) and green idle (I) — or the other way round, as the stack stands:

====  ===========================================  =============  ========  ==========
step  release tool (``--apply``)                   must exit      live      ``step``
====  ===========================================  =============  ========  ==========
1     ``start --set apps.A.colors.I.env.N=V``      0              L         started
2     ``promote``                                  0              I         promoted
3     ``rollback``                                 0              L         started
4     ``promote``                                  0              I         promoted
5     ``finish``                                   0              I         finished
6     ``start`` of L with a candidate answering    non-zero       I         started
      500 (``--broken-env``)
====  ===========================================  =============  ========  ==========

After each step the cluster's live Service, the stack file's ``activeColor``, and the release
tool's ``status --json`` (its recorded ``live`` color and the ``served`` color it reads from the
outputs) must all name the expected live color, and ``status`` the expected ``step``. No request
of the load may fail during any step, and each step gets at least one. At step 6 the candidate's
smoke Job must have failed during it (that is what fails the update) and the live color's
Deployment must not have rolled.

The first failed check stops the run: the cluster is left as that step left it.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from infra.e2e import tool
from infra.e2e.cluster import ClusterError, Kubectl
from infra.e2e.load import Load, Tally

Out = Callable[[str], None]

#: A Node.js module preloaded with ``NODE_OPTIONS=--import=...`` (Node 18.19 / 20.6 and later)
#: that makes every answer on one path a 500 while the probes' paths answer as before: the
#: candidate becomes Ready, and its smoke Job sees the 500. ``PATH`` is replaced by the path.
_ANSWERS_500 = (
    "import http from 'node:http';"
    "const writeHead = http.ServerResponse.prototype.writeHead;"
    "http.ServerResponse.prototype.writeHead = function (status, ...rest) {"
    "  const path = ((this.req && this.req.url) || '').split('?')[0];"
    "  return writeHead.call(this, path === PATH ? 500 : status, ...rest);"
    "};"
)


def answers_500(path: str) -> str:
    """``NODE_OPTIONS`` that makes a Node app answer 500 on ``path`` (and only there)."""
    module = _ANSWERS_500.replace("PATH", json.dumps(path))
    encoded = base64.b64encode(module.encode()).decode()
    return f"--import=data:text/javascript;base64,{encoded}"


@dataclass(frozen=True)
class Plan:
    """What the run does."""

    stack: str
    app: str
    service: str
    """The live Service."""
    release_env: tuple[str, str]
    """NAME, VALUE: the env var the release's candidate gets (step 1)."""
    broken_env: tuple[str, str]
    """NAME, VALUE: the env var that makes a candidate answer 500 (step 6)."""
    verify_requests: int | None
    """``promote --verify-requests``; ``None`` for the tool's default."""
    step_timeout_s: float
    settle_s: float
    """How long to wait, after a step, for a request of its own to complete."""


@dataclass(frozen=True)
class Step:
    label: str
    command: str
    extra: tuple[str, ...]
    succeeds: bool
    live: str
    stage: str


def steps(plan: Plan, live: str, idle: str) -> list[Step]:
    """The six steps, for an app whose ``live`` color serves now."""
    name, value = plan.release_env
    broken, bad = plan.broken_env
    at = f"apps.{plan.app}.colors"
    verify: tuple[str, ...] = ()
    if plan.verify_requests is not None:
        verify = ("--verify-requests", str(plan.verify_requests))
    return [
        Step("start", "start", ("--set", f"{at}.{idle}.env.{name}={value}"), True, live, "started"),
        Step("promote", "promote", verify, True, idle, "promoted"),
        Step("rollback", "rollback", (), True, live, "started"),
        Step("promote again", "promote", verify, True, idle, "promoted"),
        Step("finish", "finish", (), True, idle, "finished"),
        Step(
            f"start of a candidate answering 500 ({live})",
            "start",
            ("--set", f"{at}.{live}.env.{broken}={bad}"),
            False,
            idle,
            "started",
        ),
    ]


@dataclass
class Outcome:
    """One step as it went."""

    label: str
    code: int | None = None
    seconds: float = 0.0
    requests: int = 0
    failed: int = 0
    problems: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {
            "step": self.label,
            "exit": self.code,
            "seconds": round(self.seconds, 1),
            "requests": self.requests,
            "failed": self.failed,
            "problems": self.problems,
        }


@dataclass
class Report:
    stack: str
    app: str
    url: str
    planned: int = 0
    """Steps the run was to take."""
    outcomes: list[Outcome] = field(default_factory=list)
    tally: Tally = field(default_factory=Tally)

    @property
    def passed(self) -> bool:
        return (
            self.planned > 0
            and len(self.outcomes) == self.planned
            and not any(o.problems for o in self.outcomes)
            and not self.tally.failures
            and self.tally.stopped is None
        )

    def as_json(self) -> dict[str, Any]:
        return {
            "stack": self.stack,
            "app": self.app,
            "url": self.url,
            "passed": self.passed,
            "requests": self.tally.total,
            "failed": len(self.tally.failures),
            "failures": [
                {"step": f.phase, "second": round(f.second, 1), "reason": f.reason}
                for f in self.tally.failures[:50]
            ],
            "steps": [o.as_json() for o in self.outcomes],
        }


class PreconditionError(RuntimeError):
    """The stack is not ready for the run; nothing was changed."""


def agreement(plan: Plan, kubectl: Kubectl, expected: str | None) -> tuple[str, dict[str, Any]]:
    """The live color everyone agrees on, and the status entry; raises ValueError naming who
    disagrees (with ``expected`` too, when given)."""
    entry = tool.status(plan.stack, plan.app)
    said = {
        "the cluster's Service " + plan.service: kubectl.served(plan.service),
        f"{tool.stack_path(plan.stack)} activeColor": tool.recorded(
            plan.stack, plan.app
        ).active_color,
        "status --json live": str((entry.get("live") or {}).get("color")),
        "status --json served": str(entry.get("served")),
    }
    colors = set(said.values()) | ({expected} if expected else set())
    if len(colors) != 1:
        parts = ", ".join(f"{who}: {color}" for who, color in said.items())
        wanted = f" (expected {expected})" if expected else ""
        raise ValueError(f"the live color is not agreed{wanted}: {parts}")
    return colors.pop(), entry


def run(plan: Plan, kubectl: Kubectl, load: Load, url: str, out: Out) -> Report:
    """Checks the stack is ready, then takes the app through :func:`steps` under load."""
    report = Report(plan.stack, plan.app, url)
    try:
        live, entry = agreement(plan, kubectl, None)
    except (ValueError, ClusterError, tool.ToolError) as err:
        raise PreconditionError(str(err)) from None
    if entry.get("step") not in ("unreleased", "finished"):
        raise PreconditionError(
            f"a release of {plan.app} is under way (status: {entry.get('step')}): finish or roll "
            "it back before a run"
        )
    for _ in range(3):
        problem = load.request_once()
        if problem is not None:
            raise PreconditionError(f"the live URL {url} fails before any step: {problem}")
    idle = "green" if live == "blue" else "blue"
    planned = steps(plan, live, idle)
    report.planned = len(planned)
    out(f"{plan.app} on {plan.stack}: {live} is live; load on {url} ({load.rate:g}/s)")
    load.start("before the first step")
    for step in planned:
        outcome = _take(plan, kubectl, load, step)
        report.outcomes.append(outcome)
        state = "; ".join(outcome.problems) or (
            f"live {step.live} (cluster, stack file, status agree); step {step.stage}"
        )
        out(
            f"{step.label}: exit {outcome.code} in {outcome.seconds:.0f} s; {state}; "
            f"{outcome.requests} requests, {outcome.failed} failed"
        )
        if outcome.problems:
            break
    report.tally = load.stop()
    return report


def _take(plan: Plan, kubectl: Kubectl, load: Load, step: Step) -> Outcome:
    outcome = Outcome(step.label)
    problems = outcome.problems
    candidate = "green" if step.live == "blue" else "blue"
    try:
        template, failed_before = None, set()
        if not step.succeeds:
            template = kubectl.pod_template(plan.app, step.live)
            failed_before = kubectl.failed_smoke_jobs(plan.app, candidate)
        load.phase(step.label)
        ran = tool.release_step(
            step.command, plan.stack, plan.app, list(step.extra), plan.step_timeout_s
        )
        outcome.code, outcome.seconds = ran.code, ran.seconds
        if step.succeeds and ran.code != 0:
            problems.append(f"the {step.command} failed (exit {ran.code})")
        if not step.succeeds:
            if ran.code == 0:
                problems.append("the update succeeded with a candidate that answers 500")
            if not kubectl.failed_smoke_jobs(plan.app, candidate) - failed_before:
                problems.append(f"no smoke Job of {candidate} failed during it")
            if kubectl.pod_template(plan.app, step.live) != template:
                problems.append(f"the live color {step.live}'s Deployment rolled")
        _, entry = agreement(plan, kubectl, step.live)
        if entry.get("step") != step.stage:
            problems.append(f"status says step {entry.get('step')}, expected {step.stage}")
    except (ValueError, ClusterError, tool.ToolError) as err:
        problems.append(str(err))
    if not load.wait_for(step.label, 1, plan.settle_s):
        problems.append(f"no request completed during the {step.label}")
    tally = load.tally()
    outcome.requests = tally.sent.get(step.label, 0)
    failed = tally.failed(step.label)
    outcome.failed = len(failed)
    if failed:
        first = failed[0]
        problems.append(
            f"{len(failed)} of {outcome.requests} requests failed (first at "
            f"{first.second:.0f} s: {first.reason})"
        )
    if tally.stopped:
        problems.append(f"the load stopped before the run ended: {tally.stopped}")
    return outcome

"""``run --apply``: a canary app's whole plan, unattended. For each weight of the plan below 100:

1. ``shift`` to it and ``pulumi up`` (the route changes, nothing else: :mod:`.shift`);
2. wait until the HTTPRoute is current: every parent Gateway reports ``Accepted`` and
   ``ResolvedRefs`` for the route's current generation (:func:`infra.canary.route.wait_route`,
   the Kubernetes API reached with the stack's ``kubeconfig`` output);
3. wait until requests through the Gateway (the app's ``url`` output, with its first hostname as
   ``Host`` when it has hostnames) split as weighted (:func:`infra.canary.split.check_split`);
   the weight took effect then;
4. hold for the pause, analysing the load balancer's own metrics of both colors
   (:func:`infra.canary.analysis.analyse`) over the window that ends the metrics' visibility
   delay ago and starts no earlier than when the weight took effect: a ``fail`` aborts at once;
   the hold ends on a ``pass`` once the pause is over; while the analysis stays
   ``inconclusive`` past the pause the step keeps holding, up to a stated bound, then aborts:
   never a promote on no data.

Then ``promote`` (every request to the candidate, recorded as live) and the same two waits at
100 %. ``finish`` stays a separate, deliberate step. A route that never becomes current, a split
never in effect or a failing analysis aborts: the candidate back to weight 0 in one ``pulumi up``
that changes only the route (:func:`.shift.plan_abort`); the candidate stays recorded. Ctrl-C or
SIGTERM aborts the same way, unless the promote was applied already.

Every line goes to ``out`` as it happens; a summary table ends the run, and is appended as
Markdown to ``$GITHUB_STEP_SUMMARY`` when that is set (a GitHub Actions job summary).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import itertools
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any

from infra import naming
from infra.canary import analysis, metrics
from infra.canary import http as canary_http
from infra.canary.errors import CanaryError, RouteNotReady, SplitNotInEffect
from infra.canary.route import Kubeconfig, wait_route
from infra.canary.split import SplitCheck, check_split
from infra.cli import INTERRUPTS
from infra.release import deployed
from infra.release.errors import CheckFailed, ReleaseError
from infra.release.rendering import app_of, settings_of
from infra.release.run import run_step
from infra.release.shift import canary_candidate, check_smoke_passed, plan_abort, plan_shift
from infra.release.switch import plan_promote
from infra.settings import COLORS, AppSettings, Color, GkeTarget, Settings

Out = Callable[[str], None]
#: The namespace of the program's Kubernetes objects: its provider sets none, so the default.
NAMESPACE = "default"
#: The env var that points the analysis at a local Monitoring stub (``HOST:PORT``).
MONITORING_ENDPOINT_ENV = "CANARY_MONITORING_ENDPOINT"


class RunInterrupted(ReleaseError):
    """Ctrl-C or SIGTERM stopped the run; the message says what was left (exit 130)."""


class _Stop(Exception):
    """Raised at the next safe point after Ctrl-C or SIGTERM."""


# --------------------------------------------------------------------------- time and signals


class Clock:
    """The run's time: monotonic seconds for the waits, UTC for the metrics' windows."""

    def monotonic(self) -> float:
        return time.monotonic()

    def now(self) -> dt.datetime:
        return dt.datetime.now(dt.UTC)

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)


#: The clock of a run from the command line.
CLOCK = Clock()


class Stop:
    """Ctrl-C and SIGTERM during a run: the first one is noted and the run stops at its next safe
    point (between requests, polls and sleeps; a ``pulumi up`` child handles Ctrl-C itself and
    ends first), then aborts the canary; later ones are ignored while it does."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self.signal: int | None = None

    def __call__(self, signum: int, _frame: FrameType | None) -> None:
        if self.signal is None:
            self.signal = signum

    def check(self) -> None:
        if self.signal is not None:
            raise _Stop

    def sleep(self, seconds: float) -> None:
        """Sleeps in short slices, stopping at a signal."""
        end = self.clock.monotonic() + seconds
        while True:
            self.check()
            left = end - self.clock.monotonic()
            if left <= 0:
                return
            self.clock.sleep(min(left, 0.2))


@contextlib.contextmanager
def stoppable(clock: Clock) -> Iterator[Stop]:
    """Ctrl-C and SIGTERM noted by a :class:`Stop` during the block (the handlers before are back
    after it); off the main thread, nothing is installed."""
    stop = Stop(clock)
    if threading.current_thread() is not threading.main_thread():
        yield stop
        return
    previous = {s: signal.signal(s, stop) for s in INTERRUPTS}
    try:
        yield stop
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)


# --------------------------------------------------------------------------- options


@dataclass(frozen=True)
class RunOptions:
    """How a run waits and judges; every value has a command-line option."""

    plan: tuple[int, ...] | None = None
    """The weights (ending at 100); ``None``: the app's ``canary.plan``."""
    pause_s: int | None = None
    """How long each step holds; ``None``: the app's ``canary.pauseSeconds``."""
    route_timeout_s: float = 300.0
    route_poll_s: float = 5.0
    split_timeout_s: float = 300.0
    split_tolerance: float = 0.05
    split_confidence: float = 0.99
    request_timeout_s: float = 5.0
    metrics_delay_s: int | None = None
    """How far back the analysis window ends; ``None``: the load balancer's visibility delay."""
    analysis_every_s: float = 30.0
    inconclusive_s: float = 600.0
    """How long past the pause a step may hold on an inconclusive analysis before it aborts."""
    kubeconfig: Path | None = None
    """``None``: the stack's ``kubeconfig`` output."""
    monitoring_endpoint: str | None = None
    """``None``: Cloud Monitoring (or ``$CANARY_MONITORING_ENDPOINT``)."""
    policy_pack: Path | None = None
    """A CrossGuard policy pack each ``pulumi up`` of the run enforces (``--policy-pack``)."""

    def up_args(self) -> tuple[str, ...]:
        return ("--policy-pack", str(self.policy_pack)) if self.policy_pack else ()


def check_plan(plan: tuple[int, ...], current: int) -> tuple[int, ...]:
    """The plan's weights still to go from ``current`` (itself included, when it is one of them
    and above 0); one line naming what a plan is."""
    allowed = "weights 1-100, strictly increasing, ending at 100, e.g. 5,25,50,100"
    if not plan or any(not 1 <= w <= 100 for w in plan) or plan[-1] != 100:
        raise ReleaseError(f"--plan {','.join(map(str, plan))}: allowed is {allowed}")
    if any(b <= a for a, b in itertools.pairwise(plan)):
        raise ReleaseError(f"--plan {','.join(map(str, plan))}: allowed is {allowed}")
    # A run resumed at a weight of the plan holds and analyses it again: it was never judged,
    # or the run that judged it did not go on.
    return tuple(w for w in plan if w > current or (current and w == current))


# --------------------------------------------------------------------------- the summary


@dataclass
class Row:
    step: str
    weight: int
    route: str = "-"
    split: str = "-"
    analysis: str = "-"
    elapsed_s: float = 0.0


@dataclass
class Summary:
    app: str
    rows: list[Row] = field(default_factory=list)
    outcome: str = ""

    HEAD = ("STEP", "WEIGHT", "ROUTE", "SPLIT", "ANALYSIS", "ELAPSED")

    def _cells(self) -> list[list[str]]:
        return [
            [r.step, f"{r.weight} %", r.route, r.split, r.analysis, f"{r.elapsed_s:.0f} s"]
            for r in self.rows
        ]

    def table(self) -> list[str]:
        cells = [list(self.HEAD), *self._cells()]
        widths = [max(len(c[i]) for c in cells) for i in range(len(self.HEAD) - 1)]
        lines = [
            "  ".join([*(c.ljust(w) for c, w in zip(row, widths, strict=False)), row[-1]])
            for row in cells
        ]
        return [*lines, self.outcome]

    def markdown(self) -> str:
        head = "| " + " | ".join(self.HEAD) + " |"
        rule = "|" + "---|" * len(self.HEAD)
        body = [
            "| " + " | ".join(c.replace("|", "\\|") for c in row) + " |" for row in self._cells()
        ]
        return "\n".join(
            [f"### Canary release of {self.app}", "", head, rule, *body, "", self.outcome, ""]
        )


def _write_job_summary(summary: Summary) -> None:
    path = os.environ.get("GITHUB_STEP_SUMMARY")
    if not path:
        return
    with contextlib.suppress(OSError), Path(path).open("a", encoding="utf-8") as f:
        f.write(summary.markdown())


# --------------------------------------------------------------------------- the run


@dataclass
class _Target:
    """What a run reaches: the route, the Gateway URL, the metrics."""

    settings: Settings
    app: AppSettings
    api: Any
    url: str
    host: str | None
    client: Any
    project: str
    lb: metrics.LoadBalancer
    limits: analysis.Limits

    def services(self) -> dict[str, str]:
        return {c: naming.color_service(self.app, c) for c in COLORS}

    def backend(self, color: Color) -> metrics.Backend:
        return metrics.Backend(
            NAMESPACE, naming.color_service(self.app, color), self.app.service.port
        )


def _target(stack: str, app_name: str, options: RunOptions) -> _Target:
    """Everything a run needs, read and checked before anything is written."""
    settings = settings_of(stack)
    app = app_of(settings, app_name)
    canary_candidate(app, "run")
    assert app.canary is not None
    target = settings.target
    if not isinstance(target, GkeTarget) or target.gateway is None:
        raise ReleaseError(f"stack {stack} has no GKE Gateway: a canary runs on GKE only")
    outputs = deployed.read_outputs(stack, None)
    deployed.check_outputs(settings, outputs)
    entry = deployed.deployed_app(outputs, app_name)
    url = str((entry or {}).get("url") or "")
    if entry is None or not url:
        raise ReleaseError(
            f"the outputs give no url for {app_name}: deploy it first (`pulumi up --stack "
            f"{stack}`), its Gateway must have an address"
        )
    host = None
    if app.canary.hostnames:
        host = app.canary.hostnames[0]
        address = str(entry.get("address") or "")
        if not address:
            raise ReleaseError(f"the outputs give no Gateway address for {app_name}")
        url = f"http://{address}"
    if entry.get("active_color") != app.active_color:
        raise ReleaseError(
            f"the cluster serves {entry.get('active_color')}, and the stack file says "
            f"{app.active_color} is live: merge the last release PR (or pull) first"
        )
    try:
        text = (
            Kubeconfig.from_file(options.kubeconfig)
            if options.kubeconfig is not None
            else Kubeconfig(deployed.read_secret_output(stack, "kubeconfig"))
        )
        api = text.client()
        endpoint = options.monitoring_endpoint or os.environ.get(MONITORING_ENDPOINT_ENV)
        client = analysis.endpoint_client(endpoint) if endpoint else analysis.default_client()
        lb = metrics.load_balancer(target.gateway.class_name)
        a = app.canary.analysis
        limits = analysis.Limits(
            a.window_seconds, a.min_requests, a.max_5xx_ratio, a.max_p95_ms, a.max_p95_vs_live
        )
    except CanaryError as err:
        raise ReleaseError(f"run refused, nothing written: {err}") from None
    return _Target(
        settings, app, api, url.rstrip("/") + "/", host, client, target.project, lb, limits
    )


class CanaryRun:
    """One run of a canary app's plan."""

    def __init__(
        self, stack: str, app: str, options: RunOptions, out: Out, clock: Clock | None = None
    ) -> None:
        self.stack, self.app_name, self.options = stack, app, options
        self._out = out
        self.clock = clock or CLOCK
        self.summary = Summary(app)
        self.started = self.step_began = 0.0

    def out(self, line: str) -> None:
        """A line, at once: a run holds for minutes, and into a pipe (a CI log) Python would
        keep its lines in the buffer until the end."""
        self._out(line)
        with contextlib.suppress(OSError, ValueError):
            sys.stdout.flush()

    def say(self, line: str) -> None:
        elapsed = self.clock.monotonic() - self.started
        self.out(f"[{_mmss(elapsed)}] {line}")

    def run(self) -> None:
        t = _target(self.stack, self.app_name, self.options)
        check_smoke_passed(self.stack, self.app_name, "run")
        assert t.app.canary is not None
        candidate = t.app.release.candidate
        assert candidate is not None
        plan = check_plan(self.options.plan or t.app.canary.plan, t.app.release.weight)
        pause = t.app.canary.pause_seconds if self.options.pause_s is None else self.options.pause_s
        self.started = self.clock.monotonic()
        live = t.app.active_color
        self.say(
            f"canary of {self.app_name} on {self.stack}: {candidate.color} (candidate) against "
            f"{live} (live), plan {' → '.join(f'{w} %' for w in plan)}, pause {pause} s, "
            f"analysis window {t.limits.window_s} s, metrics of the {t.lb.kind}"
        )
        with stoppable(self.clock) as stop:
            try:
                for i, weight in enumerate(plan, 1):
                    name = f"{i}/{len(plan)}"
                    if weight == 100:
                        self._promote(t, name, stop)
                    else:
                        self._step(t, name, weight, pause, stop)
            except _Stop:
                self._interrupted(t, stop)
            except CanaryError as err:
                self._abort(t, err)
        self.summary.outcome = (
            f"{self.app_name}: every request on {candidate.color}, recorded as live; "
            f"`finish --stack {self.stack} --app {self.app_name} --apply` ends the release"
        )
        self._end()

    def _end(self) -> None:
        for line in self.summary.table():
            self.out(line)
        _write_job_summary(self.summary)

    # ---------------------------------------------------------------- one step

    def _step(self, t: _Target, name: str, weight: int, pause: int, stop: Stop) -> None:
        row = Row(name, weight)
        self.summary.rows.append(row)
        begun = self.step_began = self.clock.monotonic()
        self.say(f"step {name}: shift to {weight} %")
        try:
            run_step(
                plan_shift(self.stack, self.app_name, weight),
                True,
                self.out,
                self.options.up_args(),
            )
        except ReleaseError as err:
            stop.check()
            raise _Failed(f"step {name}: the shift's `pulumi up` failed ({err})", "-") from None
        stop.check()
        previous = t.app.release.weight
        t.app = app_of(settings_of(self.stack), self.app_name)
        candidate, live = self._colors(t)
        expected = {t.services()[candidate]: weight, t.services()[live]: 100 - weight}
        row.route, row.split = self._wait(
            t, name, weight=weight, previous=previous, expected=expected, stop=stop
        )
        since = self.clock.now()
        row.analysis = self._hold(t, name, weight=weight, pause=pause, since=since, stop=stop)
        row.elapsed_s = self.clock.monotonic() - begun
        self.say(f"step {name}: {weight} % passed in {row.elapsed_s:.0f} s")

    def _colors(self, t: _Target) -> tuple[Color, Color]:
        record = t.app.release
        cand = record.candidate or record.live
        assert cand is not None
        live = record.previous.color if record.previous else t.app.active_color
        return cand.color, live

    def _wait(
        self,
        t: _Target,
        name: str,
        *,
        weight: int,
        previous: int,
        expected: dict[str, int],
        stop: Stop,
    ) -> tuple[str, str]:
        """Waits until the route is current, then until the split is ``weight``; the split's
        tolerance is at most half the way from ``previous`` (the weight before), so that
        answers of the old split cannot pass it (at 5 % after 0 %, ±5 points would accept a
        candidate that gets no request at all)."""
        o = self.options
        who = name if name == "abort" else f"step {name}"
        candidate, live = self._colors(t)
        route = naming.http_route(t.app)
        began = self.clock.monotonic()
        state = wait_route(
            t.api,
            NAMESPACE,
            route,
            expected,
            timeout_s=o.route_timeout_s,
            poll_s=o.route_poll_s,
            out=self.say,
            clock=self.clock.monotonic,
            sleep=stop.sleep,
        )
        route_s = self.clock.monotonic() - began
        self.say(
            f"{who}: HTTPRoute {NAMESPACE}/{route} current at generation "
            f"{state.generation} after {route_s:.0f} s"
        )
        check = SplitCheck(
            t.url,
            candidate,
            live,
            weight,
            tolerance=_tolerance(o.split_tolerance, weight, previous),
            confidence=o.split_confidence,
            deadline_s=o.split_timeout_s,
            timeout_s=o.request_timeout_s,
            host=t.host,
        )

        def get(url: str, timeout: float) -> canary_http.Answer:
            stop.check()
            return canary_http.get(url, timeout, host=t.host)

        result = check_split(check, out=self.say, get=get, clock=self.clock.monotonic)
        self.say(f"{who}: {result.line()}")
        return (
            f"gen {state.generation}, {route_s:.0f} s",
            f"{100 * result.observed:.1f} % of {result.round.colored}",
        )

    def _hold(
        self, t: _Target, name: str, *, weight: int, pause: int, since: dt.datetime, stop: Stop
    ) -> str:
        o = self.options
        delay = t.lb.visible_after_s if o.metrics_delay_s is None else o.metrics_delay_s
        began = self.clock.monotonic()
        # The first window that can be judged: Cloud Monitoring aligns at least a minute, and
        # the load balancer's points of this weight are visible only ``delay`` after the fact.
        first = delay + metrics.MIN_ALIGNMENT_S
        decided = max(pause, first)
        self.say(
            f"step {name}: holding {pause} s at {weight} %; first analysis {first} s after the "
            f"weight took effect (points visible after {delay} s, a window of at least "
            f"{metrics.MIN_ALIGNMENT_S} s), then every {o.analysis_every_s:g} s"
        )
        candidate, live = self._colors(t)
        last = ""
        while True:
            held = self.clock.monotonic() - began
            if held < first:
                wait = first - held
            elif held < pause:
                wait = min(o.analysis_every_s, pause - held)
            else:
                wait = o.analysis_every_s
            stop.sleep(wait)
            held = self.clock.monotonic() - began
            verdict = analysis.analyse(
                t.client,
                t.project,
                t.lb,
                candidate=(candidate, t.backend(candidate)),
                live=(live, t.backend(live)),
                limits=t.limits,
                end=self.clock.now() - dt.timedelta(seconds=delay),
                since=since,
            )
            stop.check()
            line = verdict.line()
            if line != last:
                self.say(f"step {name}: {line}")
                last = line
            if verdict.outcome is analysis.Outcome.FAIL:
                raise _Failed(f"step {name} at {weight} %: {line}", "fail")
            if held >= pause and verdict.passed:
                return (
                    f"pass ({verdict.candidate.requests} req, p95 {_ms(verdict.candidate.p95_ms)})"
                )
            if held >= decided + o.inconclusive_s:
                raise _Failed(
                    f"step {name} at {weight} %: the analysis stayed inconclusive for "
                    f"{held - decided:.0f} s after it could first decide (bound "
                    f"{o.inconclusive_s:g} s), never a promote on no data: {line}",
                    "inconclusive",
                )

    # ---------------------------------------------------------------- the end

    def _promote(self, t: _Target, name: str, stop: Stop) -> None:
        row = Row(name, 100)
        self.summary.rows.append(row)
        begun = self.step_began = self.clock.monotonic()
        self.say(f"step {name}: promote (100 %)")
        previous = t.app.release.weight
        run_step(plan_promote(self.stack, self.app_name), True, self.out, self.options.up_args())
        t.app = app_of(settings_of(self.stack), self.app_name)
        candidate, live = self._colors(t)
        expected = {t.services()[candidate]: 100, t.services()[live]: 0}
        try:
            row.route, row.split = self._wait(
                t, name, weight=100, previous=previous, expected=expected, stop=stop
            )
        except _Stop:
            raise RunInterrupted(
                f"the promote to {candidate} is applied (every request on {candidate}, recorded "
                "as live); the checks of the route and the split did not finish: "
                f"`status --stack {self.stack}` and `verify --stack {self.stack} --app "
                f"{self.app_name}`"
            ) from None
        except CanaryError as err:
            row.elapsed_s = self.clock.monotonic() - begun
            row.analysis = "not checked"
            self.summary.outcome = (
                f"{self.app_name}: PROMOTED, UNVERIFIED: {err}; `rollback --stack {self.stack} "
                f"--app {self.app_name} --apply` sends every request back to {live}"
            )
            self._end()
            raise CheckFailed(
                f"the promote to {candidate} is applied, and its check failed: {err}; "
                f"`rollback --apply` goes back to {live}"
            ) from None
        row.analysis = "-"
        row.elapsed_s = self.clock.monotonic() - begun

    def _abort(self, t: _Target, err: CanaryError) -> None:
        """Weight 0 in one ``pulumi up``; then :class:`CheckFailed` saying why, with the
        numbers."""
        why = str(err)
        self.say(f"ABORT: {why}")
        if self.summary.rows:
            row = self.summary.rows[-1]
            if isinstance(err, RouteNotReady):
                row.route = "NOT CURRENT"
            elif isinstance(err, SplitNotInEffect):
                row.split = "NOT IN EFFECT"
            elif isinstance(err, _Failed):
                row.analysis = err.outcome.upper()
            else:
                row.analysis = "ERROR"
            row.elapsed_s = self.clock.monotonic() - self.step_began
        where = self._take_abort(t)
        self.summary.outcome = f"{self.app_name}: ABORTED: {where}; why: {why}"
        self._end()
        raise CheckFailed(
            f"canary of {self.app_name} aborted: {why}; {where}; the candidate stays recorded: "
            "`start` again with a fix, or `shift`/`run` again"
        )

    def _take_abort(self, t: _Target) -> str:
        """The abort's ``pulumi up``, then the same waits at weight 0, to say whether it is in
        effect (the run ends aborted either way); signals are ignored meanwhile. Returns what
        the ending lines say of it."""
        self.say("abort: weight 0, one `pulumi up` that changes only the route")
        previous = app_of(settings_of(self.stack), self.app_name).release.weight
        try:
            run_step(plan_abort(self.stack, self.app_name), True, self.out, self.options.up_args())
        except ReleaseError as err:
            self.summary.outcome = f"{self.app_name}: ABORT FAILED: {err}"
            self._end()
            raise CheckFailed(
                f"canary of {self.app_name}: the abort failed ({err}); run `abort --stack "
                f"{self.stack} --app {self.app_name} --apply` now"
            ) from None
        t.app = app_of(settings_of(self.stack), self.app_name)
        candidate, live = self._colors(t)
        expected = {t.services()[candidate]: 0, t.services()[live]: 100}
        try:
            self._wait(
                t, "abort", weight=0, previous=previous, expected=expected, stop=Stop(self.clock)
            )
        except CanaryError as err:
            self.say(f"abort: not confirmed in effect: {err}")
            return (
                f"weight 0 is applied (its `pulumi up` succeeded) but NOT CONFIRMED in effect "
                f"({type(err).__name__}): check the route (`kubectl describe httproute "
                f"{naming.http_route(t.app)}`) and the Gateway"
            )
        return f"every request is back on {live} (weight 0: route current, split seen)"

    def _interrupted(self, t: _Target, stop: Stop) -> None:
        what = signal.Signals(stop.signal).name if stop.signal else "a signal"
        self.say(f"{what}: aborting the canary (weight 0) before stopping")
        if self.summary.rows:
            self.summary.rows[-1].analysis = f"INTERRUPTED ({what})"
            self.summary.rows[-1].elapsed_s = self.clock.monotonic() - self.step_began
        where = self._take_abort(t)
        self.summary.outcome = f"{self.app_name}: INTERRUPTED ({what}), aborted: {where}"
        self._end()
        raise RunInterrupted(
            f"the canary of {self.app_name} was aborted: {where}; the candidate stays recorded"
        )


class _Failed(CanaryError):
    """A step's analysis failed, or stayed inconclusive past its bound."""

    def __init__(self, message: str, outcome: str) -> None:
        super().__init__(message)
        self.outcome = outcome


def _tolerance(tolerance: float, weight: int, previous: int) -> float:
    """The split's tolerance at ``weight`` after ``previous``: at most half the distance."""
    if weight == previous:
        return tolerance
    return min(tolerance, abs(weight - previous) / 200)


def _mmss(seconds: float) -> str:
    s = int(seconds)
    return f"{s // 60:02d}:{s % 60:02d}"


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f} ms"


def run(stack: str, app: str, options: RunOptions, out: Out) -> None:
    """The whole plan of ``app`` (see the module); :class:`CheckFailed` when it aborted,
    :class:`RunInterrupted` after Ctrl-C or SIGTERM."""
    CanaryRun(stack, app, options, out).run()

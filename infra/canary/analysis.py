"""The analysis between canary steps: the load balancer's own metrics (:mod:`infra.canary.metrics`)
for the candidate and the live color over the same window, judged against absolute limits and
against each other.

The verdict is one of:

* ``fail``: the candidate broke a limit: its 5xx ratio over ``max5xxRatio``, or (with confidence)
  above the live color's; its p95 backend latency over ``maxP95Ms``, or over ``maxP95VsLive``
  times the live color's. The release aborts; the verdict's line says why, with the numbers.
* ``inconclusive``: too few candidate requests in the window (``minRequests``), metrics missing
  or incomplete (Google's points arrive minutes late: ``LoadBalancer.visible_after_s``), or the
  API could not be read. The release holds and asks again; it never promotes on no data.
* ``pass``: enough requests, and every check within its limit.

The comparison of 5xx ratios needs no limit of its own: it fails when the candidate's ratio is
above the live color's at the stated confidence — the lower end of the candidate's Wilson
interval above the upper end of the live color's — and the candidate gave at least
``MIN_ERRORS_VS_LIVE`` of them, so a stray error on a small share of traffic is not mistaken for
a regression, and a real one is not hidden under the absolute limit.
A comparison needs ``minRequests`` live requests too; with fewer (the last step, at 100 %) it is
skipped, and the verdict notes it.

The client is ``google-cloud-monitoring``'s ``MetricServiceClient.list_time_series``, which
speaks gRPC only (the 2.x package ships no REST transport for the metric service).
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import grpc
from google.api_core import exceptions as gexc
from google.auth.exceptions import DefaultCredentialsError
from google.cloud import monitoring_v3
from google.cloud.monitoring_v3.services.metric_service.transports.grpc import (
    MetricServiceGrpcTransport,
)
from google.protobuf import duration_pb2

from infra.canary import metrics, stats
from infra.canary.errors import CanaryError
from infra.canary.metrics import Backend, LoadBalancer, Query

#: The fewest candidate 5xx answers that can count as worse than the live color: one or two
#: errors on a small share of traffic are significant against a near-perfect live color by the
#: intervals alone, and would abort releases for noise.
MIN_ERRORS_VS_LIVE = 5
#: How long one Monitoring API call may take, in seconds.
REQUEST_TIMEOUT_S = 30.0


class Outcome(enum.Enum):
    PASS = "pass"  # noqa: S105 - an outcome, not a password
    FAIL = "fail"
    INCONCLUSIVE = "inconclusive"


@dataclass(frozen=True)
class Limits:
    """The app's ``canary.analysis`` config."""

    window_s: int
    """``windowSeconds``: how far back the analysis looks."""
    min_requests: int
    """``minRequests``: fewer candidate requests in the window is "inconclusive"."""
    max_5xx_ratio: float
    """``max5xxRatio``: the most 5xx answers the candidate may give, as a fraction."""
    max_p95_ms: float
    """``maxP95Ms``: the candidate's p95 backend latency limit, in ms."""
    max_p95_vs_live: float
    """``maxP95VsLive``: the candidate's p95 may be at most this many times the live color's."""
    confidence: float = 0.95
    """The confidence at which the candidate's 5xx ratio counts as above the live color's."""

    def __post_init__(self) -> None:
        problems = []
        if not metrics.MIN_ALIGNMENT_S <= self.window_s <= 86_400:
            problems.append(
                f"windowSeconds {self.window_s!r}: allowed is {metrics.MIN_ALIGNMENT_S}-86400 "
                "(Cloud Monitoring aligns at least a minute)"
            )
        if not 1 <= self.min_requests <= 10_000_000:
            problems.append(f"minRequests {self.min_requests!r}: allowed is 1-10000000")
        if not 0 <= self.max_5xx_ratio < 1:
            problems.append(f"max5xxRatio {self.max_5xx_ratio!r}: allowed is 0 to less than 1")
        if not 0 < self.max_p95_ms <= 600_000:
            problems.append(f"maxP95Ms {self.max_p95_ms!r}: allowed is more than 0, at most 600000")
        if not 1 <= self.max_p95_vs_live <= 100:
            problems.append(f"maxP95VsLive {self.max_p95_vs_live!r}: allowed is 1-100")
        if not stats.MIN_CONFIDENCE <= self.confidence <= stats.MAX_CONFIDENCE:
            problems.append(f"confidence {self.confidence!r}: allowed is 0.5-0.999")
        if problems:
            raise CanaryError(f"canary.analysis: {'; '.join(problems)}")


@dataclass(frozen=True)
class ColorStats:
    """What the load balancer measured for one color in the window."""

    color: str
    requests: int
    errors: int
    """Answers of response code class 500."""
    p95_ms: float | None
    """The 95th percentile of the backend latency; ``None`` when no latency was reported."""
    incomplete: str | None = None
    """Why the numbers may be partial (the API's execution errors); ``None`` when whole."""

    @property
    def ratio(self) -> float:
        return self.errors / self.requests if self.requests else 0.0

    def describe(self) -> str:
        p95 = f"p95 {self.p95_ms:.0f} ms" if self.p95_ms is not None else "no latency data"
        return (
            f"{self.color} {self.requests} requests, 5xx {100 * self.ratio:.2f} % "
            f"({self.errors}), {p95}"
        )


@dataclass(frozen=True)
class Verdict:
    """The analysis of one window."""

    outcome: Outcome
    candidate: ColorStats
    live: ColorStats
    start: dt.datetime
    end: dt.datetime
    reasons: tuple[str, ...] = ()
    """Why it failed or is inconclusive (empty on a pass)."""
    notes: tuple[str, ...] = field(default=())
    """Checks skipped, and why (no live traffic to compare with)."""

    @property
    def passed(self) -> bool:
        return self.outcome is Outcome.PASS

    def line(self) -> str:
        """One line for the release tool's progress output and its summary table."""
        seconds = int((self.end - self.start).total_seconds())
        text = (
            f"analysis {self.outcome.value} over {seconds} s: {self.candidate.describe()}; "
            f"{self.live.describe()}"
        )
        if self.reasons:
            text += f" — {'; '.join(self.reasons)}"
        if self.notes:
            text += f" ({'; '.join(self.notes)})"
        return text


def _ratio_problems(candidate: ColorStats, live: ColorStats, limits: Limits) -> list[str]:
    failed = []
    if candidate.ratio > limits.max_5xx_ratio:
        failed.append(
            f"5xx ratio {100 * candidate.ratio:.2f} % ({candidate.errors}/{candidate.requests}) "
            f"over max5xxRatio {100 * limits.max_5xx_ratio:g} %"
        )
    if _comparable(live, limits) and candidate.errors >= MIN_ERRORS_VS_LIVE:
        cand_lo = stats.wilson(candidate.errors, candidate.requests, limits.confidence)[0]
        live_hi = stats.wilson(live.errors, live.requests, limits.confidence)[1]
        if cand_lo > live_hi:
            failed.append(
                f"5xx ratio {100 * candidate.ratio:.2f} % above the live color's "
                f"{100 * live.ratio:.2f} % (at least {100 * cand_lo:.2f} % against at most "
                f"{100 * live_hi:.2f} % at {100 * limits.confidence:g} % confidence)"
            )
    return failed


def _latency_problems(
    p95_ms: float, live: ColorStats, limits: Limits
) -> tuple[list[str], list[str]]:
    failed: list[str] = []
    notes: list[str] = []
    if p95_ms > limits.max_p95_ms:
        failed.append(f"p95 {p95_ms:.0f} ms over maxP95Ms {limits.max_p95_ms:g}")
    if not _comparable(live, limits):
        return failed, notes
    if live.p95_ms is None:
        notes.append("no live latency data: no latency comparison")
        return failed, notes
    bound = live.p95_ms * limits.max_p95_vs_live
    if p95_ms > bound:
        failed.append(
            f"p95 {p95_ms:.0f} ms over maxP95VsLive {limits.max_p95_vs_live:g} x live's "
            f"{live.p95_ms:.0f} ms = {bound:.0f} ms"
        )
    return failed, notes


def _comparable(live: ColorStats, limits: Limits) -> bool:
    """Whether the live color had enough whole data in the window to compare with."""
    return live.requests >= limits.min_requests and not live.incomplete


def judge(
    candidate: ColorStats, live: ColorStats, limits: Limits
) -> tuple[Outcome, tuple[str, ...], tuple[str, ...]]:
    """The outcome of ``candidate`` against ``limits`` and against ``live``: (outcome, reasons,
    notes). Pure: the numbers in, the verdict out."""
    missing: list[str] = []
    notes: list[str] = []
    if candidate.incomplete:
        missing.append(f"the candidate's metrics are incomplete ({candidate.incomplete})")
    if candidate.requests < limits.min_requests:
        missing.append(
            f"{candidate.requests} candidate requests in the window, fewer than minRequests "
            f"{limits.min_requests}: not enough to judge"
        )
        return Outcome.INCONCLUSIVE, tuple(missing), ()
    if not _comparable(live, limits):
        notes.append(
            f"live {live.requests} requests{' (incomplete)' if live.incomplete else ''}: "
            "no comparison with it"
        )
    failed = _ratio_problems(candidate, live, limits)
    if candidate.p95_ms is None:
        missing.append(
            "no latency data for the candidate (points arrive minutes late: wait and ask again)"
        )
    else:
        more, latency_notes = _latency_problems(candidate.p95_ms, live, limits)
        failed += more
        notes += latency_notes
    if failed:
        return Outcome.FAIL, tuple(failed + missing), tuple(notes)
    if missing:
        return Outcome.INCONCLUSIVE, tuple(missing), tuple(notes)
    return Outcome.PASS, (), tuple(notes)


def default_client() -> monitoring_v3.MetricServiceClient:
    """The Monitoring client with the machine's Application Default Credentials."""
    try:
        return monitoring_v3.MetricServiceClient()
    except DefaultCredentialsError as err:
        raise CanaryError(
            f"no Google credentials for Cloud Monitoring ({err}): run "
            "`gcloud auth application-default login`"
        ) from None


#: Where ``--monitoring-endpoint`` may point: plaintext gRPC without credentials, so a local stub
#: or emulator on this machine only.
LOOPBACK = ("127.0.0.1", "::1", "localhost")


def endpoint_client(endpoint: str) -> monitoring_v3.MetricServiceClient:
    """The Monitoring client on a plaintext gRPC channel to ``endpoint`` (``HOST:PORT``, a
    loopback host): a local stub of the API, as the offline tests run, never Google's."""
    host, sep, port = endpoint.rpartition(":")
    host = host.strip("[]")
    if not sep or host not in LOOPBACK or not port.isdigit() or not 1 <= int(port) <= 65535:
        raise CanaryError(
            f"monitoring endpoint {endpoint!r}: allowed is a loopback HOST:PORT (127.0.0.1, "
            "[::1] or localhost, port 1-65535): plaintext, without credentials, for a local stub; "
            "leave it unset for Cloud Monitoring"
        )
    channel = grpc.insecure_channel(endpoint)
    return monitoring_v3.MetricServiceClient(transport=MetricServiceGrpcTransport(channel=channel))


def _interval(start: dt.datetime, end: dt.datetime) -> Any:
    return monitoring_v3.TimeInterval(start_time=start, end_time=end)


def _aggregation(query: Query, period_s: int) -> Any:
    return monitoring_v3.Aggregation(
        alignment_period=duration_pb2.Duration(seconds=period_s),
        per_series_aligner=monitoring_v3.Aggregation.Aligner.__members__[query.aligner],
        cross_series_reducer=monitoring_v3.Aggregation.Reducer.__members__[query.reducer],
        group_by_fields=list(query.group_by),
    )


def _list(
    client: monitoring_v3.MetricServiceClient,
    project: str,
    query: Query,
    *,
    start: dt.datetime,
    end: dt.datetime,
    timeout_s: float,
) -> tuple[list[Any], str | None]:
    """Every series the query returns (all pages), and the API's execution errors, if any."""
    period = metrics.alignment_seconds(int((end - start).total_seconds()))
    request = monitoring_v3.ListTimeSeriesRequest(
        name=f"projects/{project}",
        filter=query.filter,
        interval=_interval(start, end),
        aggregation=_aggregation(query, period),
        view=monitoring_v3.ListTimeSeriesRequest.TimeSeriesView.FULL,
    )
    pager = client.list_time_series(request=request, retry=None, timeout=timeout_s)
    series: list[Any] = []
    errors: list[str] = []
    for page in pager.pages:
        series.extend(page.time_series)
        errors.extend(e.message or f"code {e.code}" for e in page.execution_errors)
    return series, ("; ".join(errors) or None)


def read_color(
    client: monitoring_v3.MetricServiceClient,
    project: str,
    lb: LoadBalancer,
    *,
    color: str,
    backend: Backend,
    start: dt.datetime,
    end: dt.datetime,
    timeout_s: float = REQUEST_TIMEOUT_S,
) -> ColorStats:
    """One color's requests, 5xx answers and p95 latency in ``[start, end]``."""
    by_class, err_counts = _list(
        client,
        project,
        metrics.requests_by_class(lb, backend),
        start=start,
        end=end,
        timeout_s=timeout_s,
    )
    total = errors = 0
    label = metrics.CODE_CLASS
    for s in by_class:
        n = sum(int(p.value.int64_value) for p in s.points)
        total += n
        if s.metric.labels.get(label) == "500":
            errors += n
    latency, err_latency = _list(
        client, project, metrics.latency_p95(lb, backend), start=start, end=end, timeout_s=timeout_s
    )
    # One point per alignment period; a window of several periods keeps its worst.
    points = [p.value.double_value for s in latency for p in s.points]
    incomplete = "; ".join(e for e in (err_counts, err_latency) if e) or None
    return ColorStats(color, total, errors, max(points) if points else None, incomplete)


def analyse(
    client: monitoring_v3.MetricServiceClient,
    project: str,
    lb: LoadBalancer,
    *,
    candidate: tuple[str, Backend],
    live: tuple[str, Backend],
    limits: Limits,
    end: dt.datetime | None = None,
    since: dt.datetime | None = None,
    now: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
    timeout_s: float = REQUEST_TIMEOUT_S,
) -> Verdict:
    """The verdict on the window of ``limits.window_s`` ending at ``end`` (now), starting no
    earlier than ``since`` (when the step's weight took effect: older traffic was split
    otherwise). An API that fails for a passing reason (unavailable, deadline) is
    "inconclusive"; one that refuses the request (permissions, a bad filter) is
    :class:`CanaryError`: asking again will not help."""
    end = end or now()
    start = end - dt.timedelta(seconds=limits.window_s)
    if since is not None and since > start:
        start = since
    if (end - start).total_seconds() < metrics.MIN_ALIGNMENT_S:
        empty = ColorStats(candidate[0], 0, 0, None), ColorStats(live[0], 0, 0, None)
        return Verdict(
            Outcome.INCONCLUSIVE,
            *empty,
            start,
            end,
            (
                f"the weight took effect {int((end - start).total_seconds())} s ago, less than "
                f"the {metrics.MIN_ALIGNMENT_S} s Cloud Monitoring aligns",
            ),
        )
    try:
        cand, base = (
            read_color(
                client, project, lb, color=c, backend=b, start=start, end=end, timeout_s=timeout_s
            )
            for c, b in (candidate, live)
        )
    except (
        gexc.PermissionDenied,
        gexc.Unauthenticated,
        gexc.InvalidArgument,
        gexc.NotFound,
    ) as err:
        raise CanaryError(
            f"Cloud Monitoring refused the query for project {project}: {err.message} "
            "(the deployer needs roles/monitoring.viewer on the project)"
        ) from None
    except gexc.GoogleAPIError as err:
        empty = ColorStats(candidate[0], 0, 0, None), ColorStats(live[0], 0, 0, None)
        return Verdict(
            Outcome.INCONCLUSIVE,
            *empty,
            start,
            end,
            (f"Cloud Monitoring could not be read ({type(err).__name__}: {err})",),
        )
    outcome, reasons, notes = judge(cand, base, limits)
    return Verdict(outcome, cand, base, start, end, reasons, notes)

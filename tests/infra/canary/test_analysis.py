"""The analysis between steps: the real google-cloud-monitoring client, over gRPC, against the
Monitoring stub on loopback answering the real ListTimeSeries messages."""

from __future__ import annotations

import datetime as dt

import grpc
import pytest

from infra.canary import analysis, metrics
from infra.canary.analysis import ColorStats, Limits, Outcome, analyse, judge
from infra.canary.errors import CanaryError
from infra.canary.metrics import Backend
from tests.infra.canary.stubs import BackendData, MonitoringStub

LB = metrics.load_balancer("gke-l7-global-external-managed")
BLUE, GREEN = Backend("default", "kubia-blue", 8080), Backend("default", "kubia-green", 8080)
NAMES = {
    "blue": "gkegw1-ab12-default-kubia-blue-8080-0123456789ab",
    "green": "gkegw1-ab12-default-kubia-green-8080-ba9876543210",
    "other": "gkegw1-ab12-default-imageview-green-8080-aaaaaaaaaaaa",
}
LIMITS = Limits(
    window_s=300, min_requests=100, max_5xx_ratio=0.01, max_p95_ms=500, max_p95_vs_live=1.5
)
END = dt.datetime(2026, 12, 6, 12, 0, tzinfo=dt.UTC)
PROJECT = "gke-bluegreen-dev"


def _run(stub: MonitoringStub, limits: Limits = LIMITS, **kwargs: object) -> analysis.Verdict:
    return analyse(
        stub.client(),
        PROJECT,
        LB,
        candidate=("green", GREEN),
        live=("blue", BLUE),
        limits=limits,
        end=END,
        **kwargs,  # type: ignore[arg-type]
    )


def _data(stub: MonitoringStub, blue: BackendData | None, green: BackendData | None) -> None:
    stub.backends = {NAMES["other"]: BackendData({500: 1000}, 9000.0)}
    for color, data in (("blue", blue), ("green", green)):
        if data is not None:
            stub.backends[NAMES[color]] = data


HEALTHY_LIVE = BackendData({200: 9500, 400: 40, 500: 10}, 120.0)


def test_a_healthy_candidate_passes(monitoring: MonitoringStub) -> None:
    _data(monitoring, HEALTHY_LIVE, BackendData({200: 495, 500: 1}, 130.0))
    verdict = _run(monitoring)
    assert verdict.outcome is Outcome.PASS
    assert verdict.candidate == ColorStats("green", 496, 1, 130.0)
    assert verdict.live == ColorStats("blue", 9550, 10, 120.0)
    assert verdict.line() == (
        "analysis pass over 300 s: green 496 requests, 5xx 0.20 % (1), p95 130 ms; "
        "blue 9550 requests, 5xx 0.10 % (10), p95 120 ms"
    )
    # The requests the client sent: the window, one alignment period, the filters of metrics.
    first = monitoring.requests[0]
    assert first.name == f"projects/{PROJECT}"
    assert first.filter == metrics.requests_by_class(LB, GREEN).filter
    assert first.interval.end_time == END
    assert first.interval.start_time == END - dt.timedelta(seconds=300)
    assert first.aggregation.alignment_period == dt.timedelta(seconds=300)
    assert list(first.aggregation.group_by_fields) == ["metric.labels.response_code_class"]


def test_failing_5xx_fails_with_the_numbers(monitoring: MonitoringStub) -> None:
    _data(monitoring, HEALTHY_LIVE, BackendData({200: 470, 500: 30}, 110.0))
    verdict = _run(monitoring)
    assert verdict.outcome is Outcome.FAIL
    assert verdict.reasons[0] == "5xx ratio 6.00 % (30/500) over max5xxRatio 1 %"
    assert verdict.reasons[1].startswith("5xx ratio 6.00 % above the live color's 0.10 %")
    assert "fail over 300 s" in verdict.line()


def test_5xx_above_live_fails_under_the_absolute_limit(monitoring: MonitoringStub) -> None:
    live = BackendData({200: 100_000, 500: 10}, 100.0)  # 0.01 %
    _data(monitoring, live, BackendData({200: 1990, 500: 18}, 100.0))  # 0.9 %
    verdict = _run(monitoring)
    assert verdict.outcome is Outcome.FAIL
    (reason,) = verdict.reasons
    assert reason.startswith("5xx ratio 0.90 % above the live color's 0.01 % (at least ")


def test_a_few_errors_on_little_traffic_are_not_a_regression(monitoring: MonitoringStub) -> None:
    _data(
        monitoring,
        BackendData({200: 100_000, 500: 10}, 100.0),
        BackendData({200: 199, 500: 1}, 100.0),
    )
    assert _run(monitoring).outcome is Outcome.PASS


def test_a_slow_candidate_fails(monitoring: MonitoringStub) -> None:
    _data(monitoring, HEALTHY_LIVE, BackendData({200: 500}, 640.0))
    verdict = _run(monitoring)
    assert verdict.outcome is Outcome.FAIL
    assert verdict.reasons == (
        "p95 640 ms over maxP95Ms 500",
        "p95 640 ms over maxP95VsLive 1.5 x live's 120 ms = 180 ms",
    )


def test_slower_than_live_fails_under_the_absolute_limit(monitoring: MonitoringStub) -> None:
    _data(monitoring, HEALTHY_LIVE, BackendData({200: 500}, 200.0))
    (reason,) = _run(monitoring).reasons
    assert reason == "p95 200 ms over maxP95VsLive 1.5 x live's 120 ms = 180 ms"


def test_no_data_is_inconclusive_never_a_pass(monitoring: MonitoringStub) -> None:
    _data(monitoring, HEALTHY_LIVE, None)
    verdict = _run(monitoring)
    assert verdict.outcome is Outcome.INCONCLUSIVE
    assert verdict.reasons == (
        "0 candidate requests in the window, fewer than minRequests 100: not enough to judge",
    )


def test_too_few_requests_are_inconclusive(monitoring: MonitoringStub) -> None:
    _data(monitoring, HEALTHY_LIVE, BackendData({200: 99}, 100.0))
    assert _run(monitoring).outcome is Outcome.INCONCLUSIVE


def test_counts_without_latency_yet_are_inconclusive(monitoring: MonitoringStub) -> None:
    _data(monitoring, HEALTHY_LIVE, BackendData({200: 500}, None))
    verdict = _run(monitoring)
    assert verdict.outcome is Outcome.INCONCLUSIVE
    assert verdict.reasons[0].startswith("no latency data for the candidate")


def test_a_failure_is_not_hidden_by_missing_latency(monitoring: MonitoringStub) -> None:
    _data(monitoring, HEALTHY_LIVE, BackendData({200: 400, 500: 100}, None))
    assert _run(monitoring).outcome is Outcome.FAIL


def test_execution_errors_make_the_data_partial(monitoring: MonitoringStub) -> None:
    _data(monitoring, HEALTHY_LIVE, BackendData({200: 500}, 100.0))
    monitoring.execution_errors = ["some series could not be read"]
    verdict = _run(monitoring)
    assert verdict.outcome is Outcome.INCONCLUSIVE
    assert verdict.reasons[0].startswith(
        "the candidate's metrics are incomplete (some series could not be read"
    )


def test_every_page_is_read(monitoring: MonitoringStub) -> None:
    _data(monitoring, HEALTHY_LIVE, BackendData({200: 300, 300: 100, 400: 50, 500: 2}, 100.0))
    monitoring.page_size = 1
    verdict = _run(monitoring)
    assert verdict.candidate.requests == 452
    assert verdict.candidate.errors == 2
    assert any(r.page_token for r in monitoring.requests)


def test_without_live_traffic_the_comparisons_are_skipped(monitoring: MonitoringStub) -> None:
    _data(monitoring, None, BackendData({200: 500}, 100.0))
    verdict = _run(monitoring)
    assert verdict.outcome is Outcome.PASS
    assert verdict.notes == ("live 0 requests: no comparison with it",)


def test_the_window_starts_when_the_weight_took_effect(monitoring: MonitoringStub) -> None:
    _data(monitoring, HEALTHY_LIVE, BackendData({200: 500}, 100.0))
    since = END - dt.timedelta(seconds=120)
    verdict = _run(monitoring, since=since)
    assert verdict.start == since
    assert monitoring.requests[0].aggregation.alignment_period == dt.timedelta(seconds=120)


def test_a_weight_younger_than_a_minute_is_not_analysed(monitoring: MonitoringStub) -> None:
    verdict = _run(monitoring, since=END - dt.timedelta(seconds=30))
    assert verdict.outcome is Outcome.INCONCLUSIVE
    assert "took effect 30 s ago" in verdict.reasons[0]
    assert monitoring.requests == []


def test_an_unavailable_api_is_inconclusive(monitoring: MonitoringStub) -> None:
    monitoring.fail = grpc.StatusCode.UNAVAILABLE
    verdict = _run(monitoring)
    assert verdict.outcome is Outcome.INCONCLUSIVE
    assert verdict.reasons[0].startswith("Cloud Monitoring could not be read (ServiceUnavailable")


@pytest.mark.parametrize(
    "code", [grpc.StatusCode.PERMISSION_DENIED, grpc.StatusCode.UNAUTHENTICATED]
)
def test_a_refusal_is_an_error(monitoring: MonitoringStub, code: grpc.StatusCode) -> None:
    monitoring.fail = code
    with pytest.raises(
        CanaryError, match=f"Cloud Monitoring refused the query for project {PROJECT}"
    ):
        _run(monitoring)


def test_a_filter_the_api_cannot_take_is_an_error(monitoring: MonitoringStub) -> None:
    regional = metrics.load_balancer("gke-l7-regional-external-managed")
    broken = metrics.LoadBalancer("x", "broken", "https_lb_rule", regional.path, 90)
    with pytest.raises(CanaryError, match="is not written to monitored resource https_lb_rule"):
        analyse(
            monitoring.client(),
            PROJECT,
            broken,
            candidate=("green", GREEN),
            live=("blue", BLUE),
            limits=LIMITS,
            end=END,
        )


@pytest.mark.parametrize("gateway_class", list(metrics.LOAD_BALANCERS))
def test_every_class_queries_its_own_metrics(
    monitoring: MonitoringStub, gateway_class: str
) -> None:
    _data(monitoring, HEALTHY_LIVE, BackendData({200: 500}, 100.0))
    lb = metrics.load_balancer(gateway_class)
    verdict = analyse(
        monitoring.client(),
        PROJECT,
        lb,
        candidate=("green", GREEN),
        live=("blue", BLUE),
        limits=LIMITS,
        end=END,
    )
    assert verdict.outcome is Outcome.PASS
    assert {r.filter.split('"')[1] for r in monitoring.requests} == {
        lb.request_count,
        lb.backend_latencies,
    }


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"window_s": 30}, "windowSeconds 30: allowed is 60-86400"),
        ({"min_requests": 0}, "minRequests 0: allowed is 1-10000000"),
        ({"max_5xx_ratio": 1.0}, "max5xxRatio 1.0: allowed is 0 to less than 1"),
        ({"max_p95_ms": 0}, "maxP95Ms 0"),
        ({"max_p95_vs_live": 0.5}, "maxP95VsLive 0.5: allowed is 1-100"),
        ({"confidence": 0.2}, "confidence 0.2"),
    ],
)
def test_bad_limits_are_one_line(kwargs: dict[str, float], match: str) -> None:
    base = {
        "window_s": 300,
        "min_requests": 100,
        "max_5xx_ratio": 0.01,
        "max_p95_ms": 500.0,
        "max_p95_vs_live": 1.5,
    }
    with pytest.raises(CanaryError, match=match):
        Limits(**{**base, **kwargs})  # type: ignore[arg-type]


def test_judge_alone_partial_live_data_is_noted() -> None:
    live = ColorStats("blue", 5000, 0, 100.0, incomplete="late")
    outcome, reasons, notes = judge(ColorStats("green", 500, 0, 100.0), live, LIMITS)
    assert (outcome, reasons) == (Outcome.PASS, ())
    assert notes == ("live 5000 requests (incomplete): no comparison with it",)


def test_judge_alone_no_live_latency_is_noted() -> None:
    outcome, _, notes = judge(
        ColorStats("green", 500, 0, 100.0), ColorStats("blue", 5000, 0, None), LIMITS
    )
    assert outcome is Outcome.PASS
    assert notes == ("no live latency data: no latency comparison",)


def test_judge_alone_the_fewest_errors_that_count_against_live() -> None:
    live = ColorStats("blue", 100_000, 10, 100.0)
    below = ColorStats("green", 2000, analysis.MIN_ERRORS_VS_LIVE - 1, 100.0)
    at = ColorStats("green", 2000, analysis.MIN_ERRORS_VS_LIVE, 100.0)
    assert judge(below, live, LIMITS)[0] is Outcome.PASS
    assert judge(at, live, LIMITS)[0] is Outcome.FAIL


def test_the_endpoint_client_reaches_a_stub_on_loopback(monitoring: MonitoringStub) -> None:
    _data(monitoring, HEALTHY_LIVE, BackendData({200: 495, 500: 1}, 130.0))
    client = analysis.endpoint_client(f"127.0.0.1:{monitoring.port}")
    try:
        verdict = analyse(
            client,
            PROJECT,
            LB,
            candidate=("green", GREEN),
            live=("blue", BLUE),
            limits=LIMITS,
            end=END,
        )
    finally:
        client.transport.close()  # type: ignore[no-untyped-call]
    assert verdict.outcome is Outcome.PASS and verdict.candidate.requests == 496


@pytest.mark.parametrize(
    "endpoint",
    ["monitoring.googleapis.com:443", "10.0.0.1:80", "127.0.0.1", "[::1]:x", "127.0.0.1:0"],
)
def test_an_endpoint_off_this_machine_is_refused(endpoint: str) -> None:
    with pytest.raises(CanaryError, match="allowed is a loopback HOST:PORT"):
        analysis.endpoint_client(endpoint)

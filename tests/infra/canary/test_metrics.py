"""The metric definitions: the load balancer of each GatewayClass, the backend pattern, the
queries."""

from __future__ import annotations

import re

import pytest

from infra.canary import metrics
from infra.canary.errors import CanaryError
from infra.canary.metrics import Backend

#: Backend service names as GKE's Gateway controller makes them (seen on real clusters).
REAL_NAMES = [
    ("secure-app", "secure-demo", 8080, "gkegw1-qm6k-secure-app-secure-demo-8080-wqi4f7l2fh2l"),
    (
        "airflow",
        "airflow-api-server",
        8080,
        "gkegw1-26e6-airflow-airflow-api-server-8080-guzi9tddibi2",
    ),
]


@pytest.mark.parametrize(
    ("gateway_class", "resource", "count", "latency"),
    [
        (
            "gke-l7-global-external-managed",
            "https_lb_rule",
            "loadbalancing.googleapis.com/https/request_count",
            "loadbalancing.googleapis.com/https/backend_latencies",
        ),
        (
            "gke-l7-regional-external-managed",
            "http_external_regional_lb_rule",
            "loadbalancing.googleapis.com/https/external/regional/request_count",
            "loadbalancing.googleapis.com/https/external/regional/backend_latencies",
        ),
        (
            "gke-l7-rilb",
            "internal_http_lb_rule",
            "loadbalancing.googleapis.com/https/internal/request_count",
            "loadbalancing.googleapis.com/https/internal/backend_latencies",
        ),
    ],
)
def test_each_splitting_class_has_its_documented_metrics(
    gateway_class: str, resource: str, count: str, latency: str
) -> None:
    lb = metrics.load_balancer(gateway_class)
    assert (lb.resource_type, lb.request_count, lb.backend_latencies) == (resource, count, latency)


def test_the_classic_class_is_refused_with_why() -> None:
    with pytest.raises(CanaryError, match="refuses a second backendRef") as err:
        metrics.load_balancer("gke-l7-gxlb")
    assert "allowed: gke-l7-global-external-managed, gke-l7-regional-external-managed" in str(
        err.value
    )


@pytest.mark.parametrize("name", ["gke-l7-global-external-managed-mc", "istio", ""])
def test_other_classes_are_refused(name: str) -> None:
    with pytest.raises(CanaryError, match="not a GatewayClass a canary can use; allowed"):
        metrics.load_balancer(name)


@pytest.mark.parametrize(("namespace", "service", "port", "name"), REAL_NAMES)
def test_the_backend_pattern_matches_names_gke_makes(
    namespace: str, service: str, port: int, name: str
) -> None:
    assert re.fullmatch(Backend(namespace, service, port).pattern(), name)


def test_the_backend_pattern_tells_the_colors_apart() -> None:
    blue = Backend("default", "kubia-blue", 8080).pattern()
    green_name = "gkegw1-ab12-default-kubia-green-8080-0123456789ab"
    assert not re.fullmatch(blue, green_name)
    assert re.fullmatch(Backend("default", "kubia-green", 8080).pattern(), green_name)
    # Another port, another namespace, a name that only starts the same: not this backend.
    for other in (
        "gkegw1-ab12-default-kubia-blue-8081-0123456789ab",
        "gkegw1-ab12-staging-kubia-blue-8080-0123456789ab",
        "gkegw1-ab12-default-kubia-blue2-8080-0123456789ab",
    ):
        assert not re.fullmatch(blue, other), other


@pytest.mark.parametrize(
    ("namespace", "service", "port", "match"),
    [
        ("Default", "kubia", 8080, "namespace 'Default' is not a Kubernetes name"),
        ("default", "kubia_blue", 8080, "service 'kubia_blue' is not a Kubernetes name"),
        ("default", "kubia", 0, "port 0: allowed is 1-65535"),
        ("default", "kubia", 70000, "port 70000"),
    ],
)
def test_a_bad_backend_is_one_line(namespace: str, service: str, port: int, match: str) -> None:
    with pytest.raises(CanaryError, match=match):
        Backend(namespace, service, port)


def test_a_name_gke_would_shorten_is_refused() -> None:
    backend = Backend("a-rather-long-namespace", "and-a-long-app-name-green", 8080)
    with pytest.raises(CanaryError, match="shortens backend service names over 63"):
        backend.pattern()


def test_the_queries_share_one_filter_per_backend() -> None:
    lb = metrics.load_balancer("gke-l7-global-external-managed")
    blue = Backend("default", "kubia-blue", 8080)
    counts = metrics.requests_by_class(lb, blue)
    assert counts.filter == (
        'metric.type = "loadbalancing.googleapis.com/https/request_count" AND '
        'resource.type = "https_lb_rule" AND resource.labels.backend_target_name = '
        'monitoring.regex.full_match("gkegw1-[0-9a-z]{4}-default\\\\-kubia\\\\-blue\\\\-8080-'
        '[0-9a-z]{12}")'
    )
    assert (counts.aligner, counts.reducer, counts.group_by) == (
        "ALIGN_DELTA",
        "REDUCE_SUM",
        ("metric.labels.response_code_class",),
    )
    assert metrics.requests(lb, blue, rate=True).aligner == "ALIGN_RATE"
    assert metrics.server_errors(lb, blue).filter.endswith(
        "AND metric.labels.response_code_class = 500"
    )
    p95 = metrics.latency_p95(lb, blue)
    assert "https/backend_latencies" in p95.filter
    assert (p95.aligner, p95.reducer) == ("ALIGN_DELTA", "REDUCE_PERCENTILE_95")


def test_a_query_over_both_colors_matches_either() -> None:
    lb = metrics.load_balancer("gke-l7-rilb")
    both = metrics.requests(
        lb, Backend("default", "kubia-blue", 8080), Backend("default", "kubia-green", 8080)
    )
    pattern = re.search(r'full_match\("(.*)"\)', both.filter)
    assert pattern is not None
    regex = pattern[1].replace("\\\\", "\\")
    assert re.fullmatch(regex, "gkegw1-ab12-default-kubia-blue-8080-0123456789ab")
    assert re.fullmatch(regex, "gkegw1-ab12-default-kubia-green-8080-0123456789ab")
    assert not re.fullmatch(regex, "gkegw1-ab12-default-other-blue-8080-0123456789ab")


def test_a_filter_needs_a_backend() -> None:
    lb = metrics.load_balancer("gke-l7-rilb")
    with pytest.raises(CanaryError, match="at least one backend"):
        metrics.backends_filter(lb.request_count, lb, ())


def test_the_alignment_is_the_window_and_at_least_a_minute() -> None:
    assert metrics.alignment_seconds(300) == 300
    assert metrics.alignment_seconds(10) == 60

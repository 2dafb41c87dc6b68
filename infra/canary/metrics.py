"""The Cloud Monitoring metrics of the load balancer behind each GatewayClass, and the queries over
them: the one source of metric definitions that the analysis between canary steps
(:mod:`infra.canary.analysis`) and the stack's dashboard (:mod:`infra.canary.dashboard`) both use.

Which load balancer a GatewayClass makes: GKE's "GatewayClass capabilities" page
(https://cloud.google.com/kubernetes-engine/docs/how-to/gatewayclass-capabilities):
``gke-l7-global-external-managed`` is a global external Application Load Balancer,
``gke-l7-regional-external-managed`` a regional external one, ``gke-l7-rilb`` a regional internal
one. ``gke-l7-gxlb`` (the classic Application Load Balancer) cannot split a rule between two
backends, and the multi-cluster classes (``-mc``) route to ServiceImports, not to this project's
per-color Services: neither is offered.

The metric types, their monitored resource types and labels: "Cloud Load Balancing metrics"
(https://cloud.google.com/load-balancing/docs/metrics, the table that maps the metric path
``https/`` to the global external Application Load Balancer, ``https/external/regional/`` to the
regional external one and ``https/internal/`` to the internal ones) and Google Cloud's metrics
list (https://cloud.google.com/monitoring/api/metrics_gcp, ``loadbalancing``):

* ``https/request_count`` (DELTA, INT64, resource ``https_lb_rule``, "data is not visible for up
  to 210 seconds") and ``https/backend_latencies`` (DELTA, DISTRIBUTION, ms, same resource);
* ``https/external/regional/request_count`` and ``.../backend_latencies`` (resource
  ``http_external_regional_lb_rule``, visible after up to 90 s; the latencies up to 210 s);
* ``https/internal/request_count`` and ``.../backend_latencies`` (resource
  ``internal_http_lb_rule``, visible after up to 90 s).

Each request count carries the metric label ``response_code_class`` (INT64: 200, 300, 400, 500,
or 0 for none). The per-color split is by backend: each of the three resource types has the label
``backend_target_name``, "the name of the backend target or service"
(https://cloud.google.com/monitoring/api/resources), and GKE makes one backend service per
Service port an HTTPRoute references. The analysis judges ``backend_latencies`` (proxy to backend
and back, the color's own time), not ``total_latencies``, which adds the client's round trip.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from infra.canary.errors import CanaryError

#: The monitored project's metrics, as filters name them.
PREFIX = "loadbalancing.googleapis.com/"
#: The metric label of a request's response code class (INT64: 200, 300, 400, 500, 0).
CODE_CLASS = "response_code_class"
#: The resource label that names the backend service: one per color Service.
BACKEND_LABEL = "backend_target_name"
#: The shortest alignment period Cloud Monitoring accepts, in seconds.
MIN_ALIGNMENT_S = 60


@dataclass(frozen=True)
class LoadBalancer:
    """The metrics of the load balancer one GatewayClass makes."""

    gateway_class: str
    kind: str
    """What Google calls this load balancer."""
    resource_type: str
    """The monitored resource type of its metrics."""
    path: str
    """The metric path under ``loadbalancing.googleapis.com/``."""
    visible_after_s: int
    """How long after the fact Google says a point may still be missing (both metrics)."""

    @property
    def request_count(self) -> str:
        return f"{PREFIX}{self.path}request_count"

    @property
    def backend_latencies(self) -> str:
        return f"{PREFIX}{self.path}backend_latencies"


LOAD_BALANCERS: dict[str, LoadBalancer] = {
    lb.gateway_class: lb
    for lb in (
        LoadBalancer(
            "gke-l7-global-external-managed",
            "global external Application Load Balancer",
            "https_lb_rule",
            "https/",
            210,
        ),
        LoadBalancer(
            "gke-l7-regional-external-managed",
            "regional external Application Load Balancer",
            "http_external_regional_lb_rule",
            "https/external/regional/",
            210,
        ),
        LoadBalancer(
            "gke-l7-rilb",
            "regional internal Application Load Balancer",
            "internal_http_lb_rule",
            "https/internal/",
            90,
        ),
    )
}


def load_balancer(gateway_class: str) -> LoadBalancer:
    """The metrics of ``gateway_class``; one error line naming the classes that can split."""
    found = LOAD_BALANCERS.get(gateway_class)
    if found is None:
        why = (
            ": the classic load balancer refuses a second backendRef, so it cannot split traffic"
            if gateway_class.startswith("gke-l7-gxlb")
            else ""
        )
        raise CanaryError(
            f"gateway.className {gateway_class!r} is not a GatewayClass a canary can use{why}; "
            f"allowed: {', '.join(LOAD_BALANCERS)}"
        )
    return found


#: A Kubernetes name (RFC 1123 label), as namespaces and Services are named.
_K8S_NAME = re.compile(r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?")


@dataclass(frozen=True)
class Backend:
    """The backend service GKE makes for one color's Service port.

    GKE names it ``gkegw1-<4 characters>-<namespace>-<service>-<port>-<12 characters>``, e.g.
    ``gkegw1-qm6k-secure-app-secure-demo-8080-wqi4f7l2fh2l``. Google does not document the form:
    it is what GKE's Gateway controller is seen to make (``gcloud compute backend-services
    list`` on any GKE Gateway), so the pattern is kept in this one place. Long names are
    shortened by GKE to fit 63 characters: ``<namespace>-<service>-<port>`` fits whole up to 38
    characters, which :meth:`pattern` checks (a shortened name cannot be told by pattern)."""

    namespace: str
    service: str
    port: int

    def __post_init__(self) -> None:
        for what, value in (("namespace", self.namespace), ("service", self.service)):
            if not _K8S_NAME.fullmatch(value):
                raise CanaryError(
                    f"{what} {value!r} is not a Kubernetes name (lower-case letters, digits and "
                    "'-', at most 63, starting and ending with a letter or digit)"
                )
        if not 1 <= self.port <= 65535:
            raise CanaryError(f"port {self.port}: allowed is 1-65535")

    def pattern(self) -> str:
        """The RE2 pattern (``monitoring.regex.full_match``) of this backend service's name."""
        middle = f"{self.namespace}-{self.service}-{self.port}"
        if len("gkegw1-xxxx-") + len(middle) + len("-") + 12 > 63:
            raise CanaryError(
                f"backend {middle}: GKE shortens backend service names over 63 characters, so "
                "the metrics of this Service cannot be told by name; use a shorter namespace "
                "or app name"
            )
        return f"gkegw1-[0-9a-z]{{4}}-{re.escape(middle)}-[0-9a-z]{{12}}"


def _quote(value: str) -> str:
    """A filter string literal: double quotes, with backslashes and quotes escaped."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


@dataclass(frozen=True)
class Query:
    """One time-series query: a filter and how the points are aligned and reduced. The analysis
    sends it to ``projects.timeSeries.list``; the dashboard puts it in a ``TimeSeriesFilter``."""

    filter: str
    aligner: str
    """``Aggregation.perSeriesAligner`` (``ALIGN_DELTA``, ``ALIGN_RATE``)."""
    reducer: str
    """``Aggregation.crossSeriesReducer`` (``REDUCE_SUM``, ``REDUCE_PERCENTILE_95``)."""
    group_by: tuple[str, ...] = field(default=())


def backends_filter(metric_type: str, lb: LoadBalancer, backends: tuple[Backend, ...]) -> str:
    """The filter of ``metric_type`` on ``lb`` for the backend services of ``backends`` (one
    color, or both for the app's whole route)."""
    if not backends:
        raise CanaryError("a metric filter needs at least one backend")
    alternatives = "|".join(b.pattern() for b in backends)
    pattern = alternatives if len(backends) == 1 else f"(?:{alternatives})"
    return (
        f"metric.type = {_quote(metric_type)} AND resource.type = {_quote(lb.resource_type)} "
        f"AND resource.labels.{BACKEND_LABEL} = monitoring.regex.full_match({_quote(pattern)})"
    )


def requests_by_class(lb: LoadBalancer, *backends: Backend, rate: bool = False) -> Query:
    """Requests to ``backends``, one series per response code class: counts per alignment period
    (``ALIGN_DELTA``, the analysis) or per second (``ALIGN_RATE``, the dashboard)."""
    return Query(
        backends_filter(lb.request_count, lb, backends),
        "ALIGN_RATE" if rate else "ALIGN_DELTA",
        "REDUCE_SUM",
        (f"metric.labels.{CODE_CLASS}",),
    )


def requests(lb: LoadBalancer, *backends: Backend, rate: bool = False) -> Query:
    """All requests to ``backends``, one series."""
    return Query(
        backends_filter(lb.request_count, lb, backends),
        "ALIGN_RATE" if rate else "ALIGN_DELTA",
        "REDUCE_SUM",
    )


def server_errors(lb: LoadBalancer, *backends: Backend, rate: bool = False) -> Query:
    """The 5xx answers of ``backends``, one series."""
    base = requests(lb, *backends, rate=rate)
    return Query(f"{base.filter} AND metric.labels.{CODE_CLASS} = 500", base.aligner, base.reducer)


def latency_p95(lb: LoadBalancer, *backends: Backend) -> Query:
    """The 95th percentile of ``backends``' backend latency (ms) per alignment period: the
    distributions of all their series merged (``ALIGN_DELTA``), then the percentile of the
    merged distribution (``REDUCE_PERCENTILE_95``)."""
    return Query(
        backends_filter(lb.backend_latencies, lb, backends), "ALIGN_DELTA", "REDUCE_PERCENTILE_95"
    )


def alignment_seconds(window_s: int) -> int:
    """The alignment period of a window: the window itself (one point per series), at least
    :data:`MIN_ALIGNMENT_S`."""
    return max(MIN_ALIGNMENT_S, window_s)

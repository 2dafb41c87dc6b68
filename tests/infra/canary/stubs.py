"""Real servers on 127.0.0.1 for the canary library's tests:

* :class:`KubeApiStub`: the Kubernetes API's ``GET .../httproutes/NAME`` over HTTP, answering
  each read from a script (a status that lags: stale ``observedGeneration`` first, then current;
  one that never becomes current; a parent that is not Accepted), bearer token checked;
* :class:`GatewayStandIn`: a reverse proxy that sends each request to one of two upstreams by
  weight (the weights can change after a number of requests, as GKE reprograms a load balancer
  a while after the status said Accepted), relaying the upstream's status, headers and body as
  they are: it adds no color of its own;
* :func:`start_app`: the real apps of ``apps/`` as processes, each told its color in ``COLOR``;
  :class:`ColorServer`: a minimal app that answers ``X-Color`` (or a wrong one, or none), for
  the split check's own edge cases;
* :class:`MonitoringStub`: Cloud Monitoring's ``MetricService.ListTimeSeries`` over gRPC, the
  real request and response messages (``google.cloud.monitoring_v3``'s types on the wire), with
  per-backend data (healthy, failing 5xx, slow, none), pages, execution errors and failures.
"""

from __future__ import annotations

import json
import os
import random
import re
import subprocess
import sys
import threading
import time
import urllib.parse
from collections.abc import Callable
from concurrent import futures
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import grpc
from google.cloud import monitoring_v3
from google.cloud.monitoring_v3.services.metric_service.transports.grpc import (
    MetricServiceGrpcTransport,
)

from infra.canary import http as canary_http

ROOT = Path(__file__).resolve().parents[3]
APPS = ROOT / "apps"
#: The env var the apps read their color from, and the header they answer it in.
COLOR_ENV, COLOR_HEADER = "COLOR", "X-Color"


class _Server(ThreadingHTTPServer):
    daemon_threads = True


def _serve(handler: type[BaseHTTPRequestHandler]) -> tuple[_Server, threading.Thread]:
    server = _Server(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    return server, thread


class _Quiet(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args: object) -> None:
        pass

    def reply(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body)


# --- the Kubernetes API ---------------------------------------------------------------------

#: One read of a route: (HTTP status, body). The script gets the read's number, from 1.
RouteScript = Callable[[int], tuple[int, dict[str, Any]]]


class KubeApiStub:
    """``GET /apis/gateway.networking.k8s.io/v1/namespaces/NS/httproutes/NAME``, answered from
    ``routes[(NS, NAME)]``; 404 (a ``Status`` object, as the API server sends) for any other
    route, 401 without ``Authorization: Bearer <token>``."""

    def __init__(self, token: str = "stub-token") -> None:
        self.token = token
        self.routes: dict[tuple[str, str], RouteScript] = {}
        self.reads: list[str] = []
        stub = self

        class Handler(_Quiet):
            def do_GET(self) -> None:
                stub.reads.append(self.path)
                if self.headers.get("Authorization") != f"Bearer {stub.token}":
                    self.reply(401, _status(401, "Unauthorized", "Unauthorized"))
                    return
                found = re.fullmatch(
                    r"/apis/gateway\.networking\.k8s\.io/v1/namespaces/([^/]+)/httproutes/([^/?]+)",
                    urllib.parse.urlsplit(self.path).path,
                )
                script = stub.routes.get((found[1], found[2])) if found else None
                if script is None:
                    self.reply(404, _status(404, "NotFound", "httproutes not found"))
                    return
                n = sum(1 for r in stub.reads if r == self.path)
                status, body = script(n)
                self.reply(status, json.dumps(body).encode(), {"Content-Type": "application/json"})

        self.server, self.thread = _serve(Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"

    def kubeconfig(self, token: str | None = None) -> str:
        """A kubeconfig for this API server, context ``stub``."""
        return (
            "apiVersion: v1\nkind: Config\n"
            f"clusters:\n- name: stub\n  cluster:\n    server: {self.url}\n"
            "contexts:\n- name: stub\n  context:\n    cluster: stub\n    user: stub\n"
            "current-context: stub\n"
            f"users:\n- name: stub\n  user:\n    token: {token or self.token}\n"
        )

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def _status(code: int, reason: str, message: str) -> bytes:
    return json.dumps(
        {
            "kind": "Status",
            "apiVersion": "v1",
            "status": "Failure",
            "message": message,
            "reason": reason,
            "code": code,
        }
    ).encode()


@dataclass(frozen=True)
class Parent:
    """One parent's status in a scripted route."""

    observed: int
    """The observedGeneration of its conditions."""
    accepted: str = "True"
    resolved: str = "True"
    reason: str = ""
    name: str = "canary"
    controller: str = "networking.gke.io/gateway"


def httproute(
    generation: int,
    weights: dict[str, int],
    parents: list[Parent],
    *,
    name: str = "kubia",
    namespace: str = "default",
    spec_parents: list[str] | None = None,
) -> dict[str, Any]:
    """An HTTPRoute as the API server returns it: a tester-header rule to the first Service, the
    weighted rule to all, and the status of ``parents``."""
    services = list(weights)
    gateway = {"group": "gateway.networking.k8s.io", "kind": "Gateway"}

    def condition(kind: str, status: str, p: Parent) -> dict[str, Any]:
        return {
            "type": kind,
            "status": status,
            "reason": p.reason or (kind if status == "True" else "Pending"),
            "message": "",
            "observedGeneration": p.observed,
            "lastTransitionTime": "2026-12-06T10:00:00Z",
        }

    return {
        "apiVersion": "gateway.networking.k8s.io/v1",
        "kind": "HTTPRoute",
        "metadata": {"name": name, "namespace": namespace, "generation": generation},
        "spec": {
            "parentRefs": [{**gateway, "name": n} for n in (spec_parents or ["canary"])],
            "rules": [
                {
                    "matches": [{"headers": [{"name": "X-Canary", "value": "1"}]}],
                    "backendRefs": [{"name": services[-1], "port": 8080}],
                },
                {
                    "backendRefs": [
                        {"kind": "Service", "name": s, "port": 8080, "weight": w}
                        for s, w in weights.items()
                    ]
                },
            ],
        },
        "status": {
            "parents": [
                {
                    "parentRef": {**gateway, "name": p.name, "namespace": namespace},
                    "controllerName": p.controller,
                    "conditions": [
                        condition("Accepted", p.accepted, p),
                        condition("ResolvedRefs", p.resolved, p),
                    ],
                }
                for p in parents
            ]
        },
    }


# --- the apps and the Gateway stand-in -------------------------------------------------------


@dataclass
class App:
    """A real app process from ``apps/``."""

    name: str
    color: str
    proc: subprocess.Popen[str]
    port: int = 0
    lines: list[str] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


#: How each app starts, from apps/ (as tests/apps does): (argv, working folder).
APP_ARGV = {
    "kubia": (("node", "kubia/app.js"), APPS),
    "py-web-server": ((sys.executable, "web_server.py"), APPS / "py-web-server"),
}


def start_app(name: str, color: str, timeout_s: float = 10.0) -> App:
    """Starts app ``name`` with ``COLOR=color`` on a free loopback port; waits for its
    ``listening on port N`` line."""
    argv, cwd = APP_ARGV[name]
    env = {"PATH": os.environ["PATH"], "PORT": "0", COLOR_ENV: color}
    proc = subprocess.Popen(
        argv, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    app = App(name, color, proc)
    assert proc.stdout is not None
    stdout = proc.stdout

    def pump() -> None:
        for line in stdout:
            app.lines.append(line.rstrip("\n"))

    threading.Thread(target=pump, daemon=True).start()
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        banner = [ln for ln in list(app.lines) if " listening on port " in ln]
        if banner:
            app.port = int(banner[0].rsplit(" ", 1)[1])
            return app
        if proc.poll() is not None:
            break
        time.sleep(0.02)
    proc.kill()
    raise AssertionError(f"{name} did not start: {app.lines!r}")


def stop_app(app: App) -> None:
    if app.proc.poll() is None:
        app.proc.terminate()
    try:
        app.proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        app.proc.kill()
        app.proc.wait(timeout=5)
    if app.proc.stdout is not None:
        app.proc.stdout.close()


class ColorServer:
    """A minimal app: ``GET`` answers 200 with ``X-Color: <color>`` (``None``: no header)."""

    def __init__(self, color: str | None) -> None:
        self.color = color
        server = self

        class Handler(_Quiet):
            def do_GET(self) -> None:
                headers = {} if server.color is None else {COLOR_HEADER: server.color}
                self.reply(200, b"ok\n", headers)

        self.server, self.thread = _serve(Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


#: Hop-by-hop headers a proxy does not relay (RFC 9110 7.6.1), and the ones it sets itself.
_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "date", "server"}


class GatewayStandIn:
    """A reverse proxy on loopback that splits requests by weight between ``upstreams`` (name →
    base URL), like the Gateway's load balancer: each request goes to one upstream, drawn at
    random by weight (a seeded generator: the same run, the same draws)."""

    def __init__(self, upstreams: dict[str, str], weights: dict[str, int], seed: int = 16) -> None:
        self.upstreams = upstreams
        self._weights = dict(weights)
        self._pending: tuple[int, dict[str, int]] | None = None
        self._random = random.Random(seed)
        self._lock = threading.Lock()
        self.served: dict[str, int] = dict.fromkeys(upstreams, 0)
        self.requests = 0
        stand_in = self

        class Handler(_Quiet):
            def do_GET(self) -> None:
                target = stand_in._pick()
                try:
                    answer = canary_http.get(stand_in.upstreams[target] + self.path, 5.0)
                except (OSError, ValueError) as err:
                    self.reply(502, f"upstream {target}: {err}\n".encode())
                    return
                relayed = {k: v for k, v in answer.headers.items() if k not in _HOP}
                self.reply(answer.status, answer.body, relayed)

        self.server, self.thread = _serve(Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"

    def set_weights(self, weights: dict[str, int], after_requests: int = 0) -> None:
        """New weights, in effect once ``after_requests`` more requests have been served (the
        load balancer still being programmed)."""
        with self._lock:
            if after_requests <= 0:
                self._weights, self._pending = dict(weights), None
            else:
                self._pending = (self.requests + after_requests, dict(weights))

    def _pick(self) -> str:
        with self._lock:
            self.requests += 1
            if self._pending is not None and self.requests > self._pending[0]:
                self._weights, self._pending = self._pending[1], None
            names = list(self._weights)
            target = self._random.choices(names, [self._weights[n] for n in names])[0]
            self.served[target] += 1
            return target

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


# --- Cloud Monitoring --------------------------------------------------------------------------

#: Each metric's monitored resource type and value type, as Google's metrics list gives them
#: (https://cloud.google.com/monitoring/api/metrics_gcp, loadbalancing): the stub's own table,
#: deliberately not read from infra.canary.metrics, so a wrong pairing there is refused here.
METRICS = {
    "loadbalancing.googleapis.com/https/request_count": ("https_lb_rule", "INT64"),
    "loadbalancing.googleapis.com/https/backend_latencies": ("https_lb_rule", "DISTRIBUTION"),
    "loadbalancing.googleapis.com/https/external/regional/request_count": (
        "http_external_regional_lb_rule",
        "INT64",
    ),
    "loadbalancing.googleapis.com/https/external/regional/backend_latencies": (
        "http_external_regional_lb_rule",
        "DISTRIBUTION",
    ),
    "loadbalancing.googleapis.com/https/internal/request_count": ("internal_http_lb_rule", "INT64"),
    "loadbalancing.googleapis.com/https/internal/backend_latencies": (
        "internal_http_lb_rule",
        "DISTRIBUTION",
    ),
}
#: The filter the stub understands: the metric, the resource, the backend regex, and optionally
#: the 5xx class; anything else is INVALID_ARGUMENT, as a filter the API cannot parse is.
_FILTER = re.compile(
    r'metric\.type = "(?P<metric>[^"]+)" AND resource\.type = "(?P<resource>[^"]+)" AND '
    r"resource\.labels\.backend_target_name = "
    r'monitoring\.regex\.full_match\("(?P<regex>(?:[^"\\]|\\.)*)"\)'
    r"(?: AND metric\.labels\.response_code_class = (?P<code>\d+))?"
)


@dataclass
class BackendData:
    """What the load balancer measured for one backend service in any window asked about."""

    by_class: dict[int, int]
    """Requests by response code class (200, 300, 400, 500, 0)."""
    p95_ms: float | None
    """The p95 backend latency; ``None``: no latency points (yet)."""


@dataclass
class MonitoringStub:
    """``google.monitoring.v3.MetricService/ListTimeSeries`` on 127.0.0.1 over gRPC."""

    backends: dict[str, BackendData] = field(default_factory=dict)
    """Data by backend service name (``gkegw1-...``)."""
    page_size: int = 0
    """Series per page (0: all on one); a longer answer is paged with ``next_page_token``."""
    execution_errors: list[str] = field(default_factory=list)
    """Execution errors on every answer (the API's "data may be incomplete")."""
    fail: grpc.StatusCode | None = None
    """Answer every call with this error instead."""
    requests: list[monitoring_v3.ListTimeSeriesRequest] = field(default_factory=list)

    def __post_init__(self) -> None:
        handler = grpc.method_handlers_generic_handler(
            "google.monitoring.v3.MetricService",
            {
                "ListTimeSeries": grpc.unary_unary_rpc_method_handler(
                    self._list,
                    request_deserializer=monitoring_v3.ListTimeSeriesRequest.deserialize,
                    response_serializer=monitoring_v3.ListTimeSeriesResponse.serialize,
                )
            },
        )
        self.server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
        self.server.add_generic_rpc_handlers((handler,))
        self.port = self.server.add_insecure_port("127.0.0.1:0")
        self.server.start()
        self._channels: list[grpc.Channel] = []

    def client(self) -> monitoring_v3.MetricServiceClient:
        """The real client, its gRPC transport on a plaintext channel to this stub."""
        channel = grpc.insecure_channel(f"127.0.0.1:{self.port}")
        self._channels.append(channel)
        return monitoring_v3.MetricServiceClient(
            transport=MetricServiceGrpcTransport(channel=channel)
        )

    def close(self) -> None:
        for channel in self._channels:
            channel.close()
        self.server.stop(grace=None)

    def _list(
        self, request: monitoring_v3.ListTimeSeriesRequest, context: grpc.ServicerContext
    ) -> monitoring_v3.ListTimeSeriesResponse:
        self.requests.append(request)
        if self.fail is not None:
            context.abort(self.fail, f"stub: {self.fail.name}")
        try:
            series = self._answer(request)
        except ValueError as err:
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, str(err))
        start = int(request.page_token or "0")
        size = self.page_size or max(1, len(series))
        page = series[start : start + size]
        following = start + size
        return monitoring_v3.ListTimeSeriesResponse(
            time_series=page,
            next_page_token=str(following) if following < len(series) else "",
            execution_errors=[{"code": 4, "message": m} for m in self.execution_errors],
        )

    def _answer(
        self, request: monitoring_v3.ListTimeSeriesRequest
    ) -> list[monitoring_v3.TimeSeries]:
        if not re.fullmatch(r"projects/[a-z][-a-z0-9]{4,28}[a-z0-9]", request.name):
            raise ValueError(f"Invalid resource name {request.name!r}")
        found = _FILTER.fullmatch(request.filter)
        if found is None:
            raise ValueError(f"Could not parse filter {request.filter!r}")
        metric, resource = found["metric"], found["resource"]
        if metric not in METRICS or METRICS[metric][0] != resource:
            raise ValueError(f"metric {metric} is not written to monitored resource {resource}")
        value_type = METRICS[metric][1]
        agg = request.aggregation
        period = agg.alignment_period.total_seconds() if agg.alignment_period else 0
        if period < 60:
            raise ValueError("The alignment period must be at least 60 seconds")
        start = request.interval.start_time
        end = request.interval.end_time
        if not end or not start or start >= end:
            raise ValueError("The interval must have a start time before its end time")
        pattern = re.compile(json.loads(f'"{found["regex"]}"'))
        matched = [d for name, d in self.backends.items() if pattern.fullmatch(name)]
        interval = monitoring_v3.TimeInterval(start_time=start, end_time=end)
        base = {"resource": {"type": resource, "labels": {"project_id": request.name[9:]}}}
        if value_type == "DISTRIBUTION":
            return _distribution(request, metric, matched, base, interval)
        return _counts(request, metric, found["code"], matched, base, interval)


def _distribution(
    request: monitoring_v3.ListTimeSeriesRequest,
    metric: str,
    matched: list[BackendData],
    base: dict[str, Any],
    interval: monitoring_v3.TimeInterval,
) -> list[monitoring_v3.TimeSeries]:
    agg = request.aggregation
    aligner, reducer = agg.per_series_aligner.name, agg.cross_series_reducer.name
    group_by = list(agg.group_by_fields)
    if (aligner, reducer, group_by) != ("ALIGN_DELTA", "REDUCE_PERCENTILE_95", []):
        raise ValueError(f"stub: {aligner}/{reducer} by {group_by} on a distribution")
    values = [d.p95_ms for d in matched if d.p95_ms is not None and any(d.by_class.values())]
    if not values:
        return []
    return [
        monitoring_v3.TimeSeries(
            metric={"type": metric},
            metric_kind="DELTA",
            value_type="DOUBLE",
            points=[{"interval": interval, "value": {"double_value": max(values)}}],
            **base,
        )
    ]


def _counts(
    request: monitoring_v3.ListTimeSeriesRequest,
    metric: str,
    code: str | None,
    matched: list[BackendData],
    base: dict[str, Any],
    interval: monitoring_v3.TimeInterval,
) -> list[monitoring_v3.TimeSeries]:
    agg = request.aggregation
    aligner, reducer = agg.per_series_aligner.name, agg.cross_series_reducer.name
    group_by = list(agg.group_by_fields)
    period = agg.alignment_period.total_seconds()
    if aligner not in ("ALIGN_DELTA", "ALIGN_RATE") or reducer != "REDUCE_SUM":
        raise ValueError(f"stub: {aligner}/{reducer} on a request count")
    counts: dict[int, int] = {}
    for d in matched:
        for c, n in d.by_class.items():
            if code is None or int(code) == c:
                counts[c] = counts.get(c, 0) + n
    if not counts:
        return []
    if group_by == ["metric.labels.response_code_class"]:
        groups = {str(c): n for c, n in counts.items()}
    elif not group_by:
        groups = {"": sum(counts.values())}
    else:
        raise ValueError(f"stub: group by {group_by}")

    def value(n: int) -> dict[str, Any]:
        if aligner == "ALIGN_RATE":
            return {"double_value": n / period}
        return {"int64_value": n}

    return [
        monitoring_v3.TimeSeries(
            metric={"type": metric, "labels": {"response_code_class": cls} if cls else {}},
            metric_kind="GAUGE" if aligner == "ALIGN_RATE" else "DELTA",
            value_type="DOUBLE" if aligner == "ALIGN_RATE" else "INT64",
            points=[{"interval": interval, "value": value(n)}],
            **base,
        )
        for cls, n in sorted(groups.items())
    ]

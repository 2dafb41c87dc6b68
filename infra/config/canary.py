"""``apps.<app>.strategy`` and ``apps.<app>.canary``: whether a release moves every request at once
(``bluegreen``, the live Service's selector) or a share of them in steps (``canary``, the weights of
the app's HTTPRoute on the stack's GKE Gateway), and for a canary its plan, its pauses, its tester
header and the limits the release tool judges each step by.

What a canary needs of the rest of the app is checked here too: it is reached through the Gateway,
so its live Service stays inside the cluster, and only a recorded candidate gets a weight.
"""

from __future__ import annotations

import ipaddress
import re
from typing import cast

from infra.config.reader import Node, choice, int_in, match, number_in, string
from infra.settings import (
    AppSettings,
    CanaryAnalysis,
    CanarySettings,
    ConfigError,
    Strategy,
)

STRATEGIES: tuple[Strategy, ...] = ("bluegreen", "canary")
#: The candidate's weights when the stack names none: Flagger's and Argo Rollouts' usual first
#: step (5 %), then a quarter, a half, everything.
DEFAULT_PLAN = (5, 25, 50, 100)
#: The most steps a plan may have.
PLAN_MAX = 20
DEFAULT_PAUSE_SECONDS = 120
DEFAULT_TESTER_HEADER = "x-canary"
#: The analysis limits when the stack sets none (README, "Canary releases").
ANALYSIS_DEFAULTS = {
    "windowSeconds": 60,
    "minRequests": 100,
    "max5xxRatio": 0.01,
    "maxP95Ms": 500,
    "maxP95VsLive": 1.5,
}
#: The shortest analysis window: the load balancer's request metrics are sampled once a minute,
#: so a shorter window may hold no sample at all.
WINDOW_MIN = 60
#: Header names HTTP itself or the load balancer sets, rewrites or routes by: a tester header of
#: one of these names would not reach the route as the tester typed it.
RESERVED_HEADERS = frozenset(
    {
        "host",
        "connection",
        "content-length",
        "transfer-encoding",
        "te",
        "upgrade",
        "keep-alive",
        "proxy-connection",
        "forwarded",
        "via",
        "x-forwarded-for",
        "x-forwarded-proto",
        "x-cloud-trace-context",
        "traceparent",
    }
)
#: The most hostnames an HTTPRoute takes (vendor/gateway-api/v1.4.1: ``spec.hostnames``
#: ``maxItems``).
HOSTNAMES_MAX = 16

header_name = match(
    re.compile(r"[a-z][a-z0-9-]{0,62}[a-z0-9]"),
    "a header name: lower-case letters, digits and '-', starting with a letter, 2 to 64 "
    "characters, e.g. x-canary",
)
#: Gateway API's ``Hostname`` (vendor/gateway-api/v1.4.1, HTTPRoute ``spec.hostnames`` items:
#: the pattern, at most 253 characters), without the leading ``*.`` wildcard: the app's URL is
#: its first hostname, which must be one a browser can ask for.
_HOSTNAME = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")


def read(
    name: str, node: Node, service_node: Node, app: AppSettings
) -> tuple[Strategy, CanarySettings | None]:
    """The app's strategy and, for a canary, its settings; ``app`` is the app as read so far
    (its Service and release record are checked against the strategy)."""
    strategy = cast(Strategy, node.get("strategy", choice(*STRATEGIES), "bluegreen"))
    section = node.child("canary")
    release_key = node.key("release.weight")
    if strategy == "bluegreen":
        if section.data:
            raise ConfigError(
                section.path,
                dict(section.data),
                f"set only with apps.{name}.strategy: canary (now bluegreen)",
            )
        if app.release.weight:
            raise ConfigError(
                release_key,
                app.release.weight,
                f"0: a blue/green app moves every request at once (apps.{name}.strategy is "
                "bluegreen)",
            )
        return strategy, None
    if app.service.type != "ClusterIP":
        raise ConfigError(
            service_node.key("type"),
            app.service.type,
            "ClusterIP: a canary app is reached through the stack's Gateway (its url output), "
            "and a load balancer of its own would send requests past the weights",
        )
    candidate = app.release.candidate
    if app.release.weight and candidate is not None and candidate.color == app.active_color:
        raise ConfigError(
            release_key,
            app.release.weight,
            f"0 once the candidate {candidate.color} is the active color: the live color takes "
            "every request (promote records it as live)",
        )
    return strategy, _settings(section)


def _settings(node: Node) -> CanarySettings:
    analysis = _analysis(node.child("analysis"))
    pause = node.get("pauseSeconds", int_in(WINDOW_MIN, 86400), DEFAULT_PAUSE_SECONDS)
    if pause < analysis.window_seconds:
        raise ConfigError(
            node.key("pauseSeconds"),
            pause,
            f"at least analysis.windowSeconds ({analysis.window_seconds}): each step holds "
            "for one whole analysis window or more",
        )
    settings = CanarySettings(
        plan=_plan(node),
        pause_seconds=pause,
        tester_header=node.get("testerHeader", _tester_header, DEFAULT_TESTER_HEADER),
        hostnames=_hostnames(node),
        analysis=analysis,
    )
    node.done("plan, pauseSeconds, testerHeader, hostnames, analysis")
    return settings


def _plan(node: Node) -> tuple[int, ...]:
    """``plan``: the candidate's weights, strictly increasing, ending at 100."""
    raw = node.raw("plan")
    if raw is None:
        return DEFAULT_PLAN
    allowed = (
        "a list of weights in percent, strictly increasing, ending at 100, e.g. [5, 25, 50, 100]"
    )
    if not isinstance(raw, list) or not raw or len(raw) > PLAN_MAX:
        raise ConfigError(node.key("plan"), raw, f"{allowed}; 1 to {PLAN_MAX} steps")
    steps = [int_in(1, 100)(node.key(f"plan[{i}]"), step) for i, step in enumerate(raw)]
    for i in range(1, len(steps)):
        if steps[i] <= steps[i - 1]:
            raise ConfigError(
                node.key(f"plan[{i}]"),
                raw[i],
                f"more than the step before ({steps[i - 1]}); {allowed}",
            )
    if steps[-1] != 100:
        raise ConfigError(node.key(f"plan[{len(steps) - 1}]"), raw[-1], f"100 last; {allowed}")
    return tuple(steps)


def _tester_header(key: str, value: object) -> str:
    name = header_name(key, value)
    if name in RESERVED_HEADERS:
        raise ConfigError(
            key,
            value,
            "a header of the app's own: HTTP or the load balancer sets or rewrites this one",
        )
    return name


def _hostnames(node: Node) -> tuple[str, ...]:
    raw = node.raw("hostnames")
    if raw is None:
        return ()
    if not isinstance(raw, list) or len(raw) > HOSTNAMES_MAX:
        raise ConfigError(node.key("hostnames"), raw, f"a list of up to {HOSTNAMES_MAX} host names")
    names: list[str] = []
    for i, item in enumerate(raw):
        key = node.key(f"hostnames[{i}]")
        host = string(key, item)
        if len(host) > 253 or not _HOSTNAME.fullmatch(host) or _is_ip(host):
            raise ConfigError(
                key,
                item,
                "a lower-case DNS name such as kubia.example.com (no IP address, no wildcard, "
                "at most 253 characters)",
            )
        if host in names:
            raise ConfigError(key, item, "each host name once")
        names.append(host)
    return tuple(names)


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def _analysis(node: Node) -> CanaryAnalysis:
    d = ANALYSIS_DEFAULTS
    analysis = CanaryAnalysis(
        window_seconds=node.get("windowSeconds", int_in(WINDOW_MIN, 3600), int(d["windowSeconds"])),
        min_requests=node.get("minRequests", int_in(1, 10**9), int(d["minRequests"])),
        max_5xx_ratio=node.get("max5xxRatio", number_in(0, 1), float(d["max5xxRatio"])),
        max_p95_ms=node.get("maxP95Ms", int_in(1, 600_000), int(d["maxP95Ms"])),
        max_p95_vs_live=node.get("maxP95VsLive", number_in(1, 100), float(d["maxP95VsLive"])),
    )
    node.done(", ".join(d))
    return analysis

"""infra/config/canary.py: an app's strategy and canary settings; every bad value is one line naming
the key, and what a canary needs of the rest of the app is checked with it."""

from __future__ import annotations

from typing import Any

import pytest

from infra.config import canary as canary_section
from infra.settings import CanaryAnalysis, CanarySettings
from tests.infra.config.cases import base, canary_base, parsed, refused, with_value

A = "apps.imageview"
C = f"{A}.canary"
PIN = {"color": "green", "image": "gcr.io/p/imageview@sha256:" + "b" * 64, "config": "c" * 64}


def with_canary(path: str, value: object) -> dict[str, Any]:
    return with_value(path, value, canary_base())


def test_bluegreen_is_the_default_and_has_no_canary_settings() -> None:
    app = parsed().apps["imageview"]
    assert (app.strategy, app.canary, app.release.weight) == ("bluegreen", None, 0)


def test_a_canary_without_settings_gets_the_documented_defaults() -> None:
    app = parsed(canary_base()).apps["imageview"]
    assert app.strategy == "canary"
    assert app.canary == CanarySettings(
        plan=(5, 25, 50, 100),
        pause_seconds=120,
        tester_header="x-canary",
        hostnames=(),
        analysis=CanaryAnalysis(
            window_seconds=60,
            min_requests=100,
            max_5xx_ratio=0.01,
            max_p95_ms=500,
            max_p95_vs_live=1.5,
        ),
    )


def test_every_canary_setting_is_read_as_pulumi_config_set_stores_it() -> None:
    """``pulumi config set --path`` stores scalars as text unless told otherwise."""
    raw = with_canary(
        C,
        {
            "plan": ["10", 50, "100"],
            "pauseSeconds": "300",
            "testerHeader": "x-try-me",
            "hostnames": ["kubia.example.com", "www.kubia.example.com"],
            "analysis": {
                "windowSeconds": "120",
                "minRequests": 20,
                "max5xxRatio": "0.005",
                "maxP95Ms": "250",
                "maxP95VsLive": 2,
            },
        },
    )
    settings = parsed(raw).apps["imageview"].canary
    assert settings == CanarySettings(
        plan=(10, 50, 100),
        pause_seconds=300,
        tester_header="x-try-me",
        hostnames=("kubia.example.com", "www.kubia.example.com"),
        analysis=CanaryAnalysis(
            window_seconds=120,
            min_requests=20,
            max_5xx_ratio=0.005,
            max_p95_ms=250,
            max_p95_vs_live=2.0,
        ),
    )


def test_a_canary_may_set_a_candidate_weight_while_a_release_runs() -> None:
    raw = with_canary(f"{A}.release", {"candidate": PIN, "weight": 25})
    assert parsed(raw).apps["imageview"].release.weight == 25


# (path, bad value, the key the error must name, words it must contain), each on canary_base().
BAD = [
    (f"{A}.strategy", "rolling", f"{A}.strategy", "bluegreen, canary"),
    (f"{A}.strategy", "Canary", f"{A}.strategy", "bluegreen, canary"),
    (C, "fast", C, "expected an object"),
    (f"{C}.plan", [], f"{C}.plan", "ending at 100"),
    (f"{C}.plan", "5,25,100", f"{C}.plan", "a list of weights"),
    (f"{C}.plan", [5, 25, 50], f"{C}.plan[2]", "100 last"),
    (f"{C}.plan", [5, 5, 100], f"{C}.plan[1]", "more than the step before (5)"),
    (f"{C}.plan", [50, 25, 100], f"{C}.plan[1]", "more than the step before (50)"),
    (f"{C}.plan", [0, 100], f"{C}.plan[0]", "from 1 to 100"),
    (f"{C}.plan", [5, 101], f"{C}.plan[1]", "from 1 to 100"),
    (f"{C}.plan", [5.5, 100], f"{C}.plan[0]", "whole number"),
    (f"{C}.plan", [*range(1, 22), 100], f"{C}.plan", "1 to 20 steps"),
    (f"{C}.pauseSeconds", 30, f"{C}.pauseSeconds", "from 60 to 86400"),
    (f"{C}.pauseSeconds", "2m", f"{C}.pauseSeconds", "whole number"),
    (f"{C}.testerHeader", "X-Canary", f"{C}.testerHeader", "lower-case letters"),
    (f"{C}.testerHeader", "x canary", f"{C}.testerHeader", "a header name"),
    (f"{C}.testerHeader", "x-canary\r\nx-evil", f"{C}.testerHeader", "control characters"),
    (f"{C}.testerHeader", "host", f"{C}.testerHeader", "sets or rewrites this one"),
    (f"{C}.testerHeader", "x-forwarded-for", f"{C}.testerHeader", "sets or rewrites"),
    (f"{C}.hostnames", "kubia.example.com", f"{C}.hostnames", "a list of up to 16"),
    (f"{C}.hostnames", ["Kubia.example.com"], f"{C}.hostnames[0]", "lower-case DNS name"),
    (f"{C}.hostnames", ["*.example.com"], f"{C}.hostnames[0]", "no wildcard"),
    (f"{C}.hostnames", ["203.0.113.7"], f"{C}.hostnames[0]", "no IP address"),
    (f"{C}.hostnames", ["a.example.com", "a.example.com"], f"{C}.hostnames[1]", "each host"),
    (f"{C}.hostnames", [f"h{i}.example.com" for i in range(17)], f"{C}.hostnames", "16"),
    (f"{C}.analysis", {"windowSeconds": 30}, f"{C}.analysis.windowSeconds", "from 60"),
    (f"{C}.analysis", {"minRequests": 0}, f"{C}.analysis.minRequests", "from 1"),
    (f"{C}.analysis", {"max5xxRatio": 1.5}, f"{C}.analysis.max5xxRatio", "from 0 to 1"),
    (f"{C}.analysis", {"max5xxRatio": "1%"}, f"{C}.analysis.max5xxRatio", "a number"),
    (f"{C}.analysis", {"max5xxRatio": "1e-2"}, f"{C}.analysis.max5xxRatio", "a number"),
    (f"{C}.analysis", {"max5xxRatio": float("nan")}, f"{C}.analysis.max5xxRatio", "a number"),
    (f"{C}.analysis", {"max5xxRatio": True}, f"{C}.analysis.max5xxRatio", "a number"),
    (f"{C}.analysis", {"maxP95VsLive": 0.5}, f"{C}.analysis.maxP95VsLive", "from 1 to 100"),
    (f"{C}.analysis", {"maxP95VsLive": 10**400}, f"{C}.analysis.maxP95VsLive", "from 1 to"),
    (f"{C}.analysis", {"maxP95Ms": 0}, f"{C}.analysis.maxP95Ms", "from 1 to 600000"),
    (f"{C}.analysis", {"p99": 1}, f"{C}.analysis.p99", "unknown key; allowed: windowSeconds"),
    (f"{C}.analysis", {"windowSeconds": 180}, f"{C}.pauseSeconds", "at least"),
    (f"{C}.stepWeight", 10, f"{C}.stepWeight", "unknown key; allowed: plan, pauseSeconds"),
    (f"{A}.service.type", "LoadBalancer", f"{A}.service.type", "ClusterIP: a canary app"),
    (f"{A}.service.type", "NodePort", f"{A}.service.type", "past the weights"),
    (f"{A}.release", {"weight": 5}, f"{A}.release.weight", "only a recorded candidate"),
    (f"{A}.release", {"candidate": PIN, "weight": 101}, f"{A}.release.weight", "0 to 100"),
    (f"{A}.release", {"candidate": PIN, "weight": "half"}, f"{A}.release.weight", "0 to 100"),
    (
        f"{A}.release",
        {"candidate": PIN, "weight": 50},
        f"{A}.release.weight",
        "0 once the candidate green is the active color",
    ),
]


@pytest.mark.parametrize(
    ("path", "value", "key", "words"), BAD, ids=[b[0] + str(i) for i, b in enumerate(BAD)]
)
def test_a_bad_canary_value_is_one_line_naming_the_key(
    path: str, value: object, key: str, words: str
) -> None:
    raw = with_canary(path, value)
    if "active color" in words:
        raw = with_value(f"{A}.activeColor", "green", raw)
    message = refused(raw, key, words)
    assert len(message) < 400, message


@pytest.mark.parametrize(
    ("path", "value", "key", "words"),
    [
        (C, {"plan": [50, 100]}, C, "set only with apps.imageview.strategy: canary"),
        (
            f"{A}.release",
            {"candidate": PIN, "weight": 10},
            f"{A}.release.weight",
            "a blue/green app moves every request at once",
        ),
    ],
)
def test_canary_settings_on_a_bluegreen_app_are_refused(
    path: str, value: object, key: str, words: str
) -> None:
    refused(with_value(path, value, base()), key, words)


def test_the_defaults_are_valid_and_pause_for_a_whole_window() -> None:
    defaults = canary_section.ANALYSIS_DEFAULTS
    assert int(defaults["windowSeconds"]) <= canary_section.DEFAULT_PAUSE_SECONDS
    assert canary_section.DEFAULT_PLAN[-1] == 100
    assert list(canary_section.DEFAULT_PLAN) == sorted(set(canary_section.DEFAULT_PLAN))

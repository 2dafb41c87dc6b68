"""Cutover: which color is live, which is idle, how many pods each runs, which share of the
requests each gets, and the labels that pick them. The one home of these rules; the workload, the
Services and the canary route only apply them.

A blue/green cutover is a change of ``activeColor`` alone: the live Service's ``color`` selector
moves (S4's manual edit), in an order that never sends traffic to pods that are not ready (see
:mod:`infra.components.workload`). A canary moves a share of the requests at a time: the release
record's ``weight`` goes to the candidate through the app's HTTPRoute (:func:`weights`), and both
colors run at full size while the release lasts (:func:`replicas`).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from infra import build_context
from infra.settings import COLORS, SECRET_SHOWN, AppSettings, Color, ColorPin


def idle_color(app: AppSettings) -> Color:
    """The color the live Service does not select (the preview Service does)."""
    return "green" if app.active_color == "blue" else "blue"


#: The environment variable that tells each color's pods their color; the apps answer it back in
#: the ``X-Color`` header, so requests can be counted by the color that served them.
COLOR_ENV = "COLOR"
#: The environment variable that tells the app which port to listen on (the container port).
PORT_ENV = "PORT"
#: When a pod takes requests: its readiness probe every 5 s, 2 s to answer, out after 2 failures.
#: A canary's load balancer probes the same path at the same pace (its HealthCheckPolicy).
READINESS_PERIOD_S = 5
PROBE_TIMEOUT_S = 2
READINESS_FAILURES = 2


def replicas(app: AppSettings, color: Color) -> int:
    """Pods ``color`` runs: its full size when live; ``idleReplicas`` when idle, if set.

    A canary's candidate runs at full size from ``start``, before it gets any share of the
    requests, and the color it replaces keeps its full size until ``finish`` (as the previous
    color): at any weight, each color can take every request."""
    if color != app.active_color and app.idle_replicas is not None:
        if app.strategy == "canary" and color in releasing(app):
            return app.colors[color].replicas
        return app.idle_replicas
    return app.colors[color].replicas


def scales_down_after_cutover(app: AppSettings) -> bool:
    """Whether a cutover leaves the previous color fewer pods than it had, so the live Service's
    move must be followed by a pause before they go (``scaleDownDelaySeconds``). A canary's
    previous color keeps all its pods until ``finish``, long after the last request reached it."""
    idle = idle_color(app)
    return app.strategy == "bluegreen" and replicas(app, idle) < app.colors[idle].replicas


def releasing(app: AppSettings) -> set[Color]:
    """The colors a release in progress holds: its candidate and the previous color."""
    record = app.release
    return {pin.color for pin in (record.candidate, record.previous) if pin is not None}


def weights(app: AppSettings) -> dict[Color, int]:
    """The share of requests, in percent, a canary app's HTTPRoute sends to each color, in
    :data:`~infra.settings.COLORS` order: the release record's ``weight`` to the candidate, the
    rest to the active color. At rest the idle color keeps its place at 0, so that moving back is
    a weight change to a color that is still there."""
    record = app.release
    shares: dict[Color, int] = {c: 0 for c in COLORS}
    shares[app.active_color] = 100
    if record.weight and record.candidate is not None:
        shares[record.candidate.color] = record.weight
        shares[app.active_color] = 100 - record.weight
    return shares


def tester_color(app: AppSettings) -> Color:
    """The color a request carrying the app's tester header reaches: the candidate while a
    release runs, the idle color otherwise."""
    candidate = app.release.candidate
    return candidate.color if candidate is not None else idle_color(app)


def app_labels(app: AppSettings) -> dict[str, str]:
    """Labels every object of the app carries and both colors' pods match."""
    return {"app": app.name, "type": app.type_label}


def selector(app: AppSettings, color: Color) -> dict[str, str]:
    """Labels that pick one color's pods of ``app``."""
    return {**app_labels(app), "color": color}


# --------------------------------------------------------------------------- what a color runs


def runs(app: AppSettings, color: Color) -> str:
    """The image ``color`` runs, as a release record names it: its pinned reference, or the
    content tag of the folder it builds from."""
    spec = app.colors[color]
    if spec.image is not None:
        return spec.image
    assert spec.source is not None
    return build_context.tag(spec.source)


def snapshot(app: AppSettings, color: Color) -> dict[str, Any]:
    """Everything of ``color`` that restarts its pods when it changes, except the image and the
    secret values: environment, ConfigMap data, the container's ports, probes, resources, user
    and drain. Replicas are not in it (scaling restarts nothing)."""
    spec = app.colors[color]
    return {
        "container": {
            "name": app.container_name,
            "port": app.container_port,
            "portName": app.port_name,
            "readinessPath": app.readiness_path,
            "livenessPath": app.liveness_path,
            "drainSeconds": app.drain_seconds,
            "terminationGracePeriodSeconds": app.termination_grace_seconds,
            "runAsUser": app.run_as_user,
            "resources": dataclasses.asdict(app.resources),
        },
        "labels": selector(app, color),
        "env": [dataclasses.asdict(v) for v in spec.env],
        "configMaps": {name: dict(data) for name, data in spec.config_maps.items()},
        "secret": dataclasses.asdict(app.secret) if app.secret else None,
    }


def snapshot_digest(app: AppSettings, color: Color) -> str:
    """SHA-256 of :func:`snapshot`, the ``config`` of a release record."""
    text = json.dumps(snapshot(app, color), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def pin_of(app: AppSettings, color: Color) -> ColorPin:
    """What ``color`` runs now, as a record."""
    return ColorPin(color=color, image=runs(app, color), config=snapshot_digest(app, color))


# --------------------------------------------------------------------------- the live color


@dataclass(frozen=True)
class LiveChange:
    """Why an update would change what serves traffic (or the color kept for rollback)."""

    key: str
    """The config key at fault."""
    value: str
    """What it would run (an image, a config digest, a color)."""
    problem: str
    """What would change."""
    secret: bool = False
    """The change is to secret values: ``value`` is a placeholder, never a value."""


def live_change(app: AppSettings, own_secrets: Sequence[str]) -> LiveChange | None:
    """The first way this config would change the live color in place, or ``None``.

    The program cannot see what is deployed, so the release tool records it in the stack file
    (``apps.<app>.release``): the live color (and, until ``finish``, the previous one) must run
    exactly what the record says, and must read its own pinned copy of the app's secret values;
    traffic may only move to the recorded candidate, unchanged since ``start``, whether all of it
    (``activeColor``) or a share (a canary's ``weight``). Before the first
    record (the first deploy) anything goes; ``release.allowLiveChange`` lifts the rule.
    """
    record = app.release
    if record.live is None or record.allow_live_change:
        return None
    base = f"apps.{app.name}"
    kept = [("live", record.live)] + ([("previous", record.previous)] if record.previous else [])
    for role, pin in kept:
        what = "the live color" if role == "live" else "the color kept for rollback"
        problem = _differs(app, pin, f"{what} {pin.color} (release.{role})")
        if problem:
            return LiveChange(f"{base}.colors.{pin.color}", problem[0], problem[1])
        if app.secret is not None and pin.color not in own_secrets:
            return LiveChange(
                f"secrets.{app.name}",
                SECRET_SHOWN,
                f"{what} {pin.color} reads the app-level secret values, so a new value would "
                f"restart it; pin them: python -m infra.release start --app {app.name}",
                secret=True,
            )
    if app.active_color != record.live.color:
        candidate = record.candidate
        if candidate is None or candidate.color != app.active_color:
            return LiveChange(
                f"{base}.activeColor",
                app.active_color,
                f"traffic would move to {app.active_color}, which no release started; use "
                f"python -m infra.release start/promote --app {app.name}",
            )
    candidate = record.candidate
    if candidate is not None and (record.weight or app.active_color != record.live.color):
        share = f", weight {record.weight}" if record.weight else ""
        problem = _differs(
            app, candidate, f"the candidate {candidate.color} (release.candidate{share})"
        )
        if problem:
            return LiveChange(f"{base}.colors.{candidate.color}", problem[0], problem[1])
    return None


def _differs(app: AppSettings, pin: ColorPin, who: str) -> tuple[str, str] | None:
    """(what it would run, why that is a change) when ``pin``'s color no longer matches."""
    now = pin_of(app, pin.color)
    if now.image != pin.image:
        return now.image, f"{who} runs {pin.image}, and this config would change its image"
    if now.config != pin.config:
        return now.config[:12], (
            f"{who} runs config {pin.config[:12]}, and this config changes its env, ConfigMaps, "
            "resources, ports or probes"
        )
    return None

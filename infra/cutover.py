"""Cutover: which color is live, which is idle, how many pods each runs, and the labels that pick
them. The one home of these rules; the workload and the Services only apply them.

A cutover is a change of ``activeColor`` alone: the live Service's ``color`` selector moves (S4's
manual edit), in an order that never sends traffic to pods that are not ready (see
:mod:`infra.workload`).
"""

from __future__ import annotations

from infra.settings import AppSettings, Color


def idle_color(app: AppSettings) -> Color:
    """The color the live Service does not select (the preview Service does)."""
    return "green" if app.active_color == "blue" else "blue"


def replicas(app: AppSettings, color: Color) -> int:
    """Pods ``color`` runs: its full size when live; ``idleReplicas`` when idle, if set."""
    if color != app.active_color and app.idle_replicas is not None:
        return app.idle_replicas
    return app.colors[color].replicas


def app_labels(app: AppSettings) -> dict[str, str]:
    """Labels every object of the app carries and both colors' pods match."""
    return {"app": app.name, "type": app.type_label}


def selector(app: AppSettings, color: Color) -> dict[str, str]:
    """Labels that pick one color's pods of ``app``."""
    return {**app_labels(app), "color": color}

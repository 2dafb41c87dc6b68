"""The stack's canary dashboard: per app and color, the request rate, the 5xx ratio, the p95
backend latency and each color's observed share of the app's requests, as the JSON of a Cloud
Monitoring ``Dashboard`` (``gcp.monitoring.Dashboard(dashboard_json=...)``; the shape is the
Dashboards API's ``google.monitoring.dashboard.v1.Dashboard``, which the tests parse strictly with
that API's own message types).

Every chart is built from the queries of :mod:`infra.canary.metrics`, the very ones the analysis
between steps sends, aligned as rates per second instead of counts per window. The dashboard
depends on the apps, their Services and the GatewayClass, never on a weight: a shift does not
change it.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from infra.canary import metrics
from infra.canary.metrics import Backend, LoadBalancer, Query

#: The colors, in the order the charts list them.
COLORS = ("blue", "green")
#: The grid of a mosaic layout (the API's maximum) and the size of one chart on it.
COLUMNS, TILE_WIDTH, TILE_HEIGHT = 48, 12, 16
#: The alignment period of the charts.
CHART_ALIGNMENT = "60s"


@dataclass(frozen=True)
class CanaryApp:
    """One canary app as the dashboard shows it."""

    name: str
    namespace: str
    services: tuple[str, str]
    """The names of the blue and the green color's own Services (the HTTPRoute's backendRefs;
    ``infra.naming.color_service``), in :data:`COLORS` order."""
    port: int
    """The Service port the HTTPRoute's backendRefs name."""

    def backend(self, color: str) -> Backend:
        return Backend(self.namespace, self.services[COLORS.index(color)], self.port)


def _filter(query: Query) -> dict[str, Any]:
    aggregation: dict[str, Any] = {
        "alignmentPeriod": CHART_ALIGNMENT,
        "perSeriesAligner": query.aligner,
        "crossSeriesReducer": query.reducer,
    }
    if query.group_by:
        aggregation["groupByFields"] = list(query.group_by)
    return {"filter": query.filter, "aggregation": aggregation}


def _chart(title: str, unit: str, data_sets: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "title": title,
        "xyChart": {
            "dataSets": data_sets,
            "yAxis": {"label": unit, "scale": "LINEAR"},
            "chartOptions": {"mode": "COLOR"},
        },
    }


def _line(color: str, query: dict[str, Any]) -> dict[str, Any]:
    return {
        "timeSeriesQuery": query,
        "plotType": "LINE",
        "legendTemplate": color,
        "targetAxis": "Y1",
    }


def app_charts(lb: LoadBalancer, app: CanaryApp) -> list[dict[str, Any]]:
    """The four charts of one app: requests/s, 5xx ratio, p95 latency, observed share."""
    both = tuple(app.backend(c) for c in COLORS)
    rate, errors, p95, share = [], [], [], []
    for color in COLORS:
        mine = app.backend(color)
        rate.append(
            _line(color, {"timeSeriesFilter": _filter(metrics.requests(lb, mine, rate=True))})
        )
        errors.append(
            _line(
                color,
                {
                    "timeSeriesFilterRatio": {
                        "numerator": _filter(metrics.server_errors(lb, mine, rate=True)),
                        "denominator": _filter(metrics.requests(lb, mine, rate=True)),
                    }
                },
            )
        )
        p95.append(_line(color, {"timeSeriesFilter": _filter(metrics.latency_p95(lb, mine))}))
        share.append(
            _line(
                color,
                {
                    "timeSeriesFilterRatio": {
                        "numerator": _filter(metrics.requests(lb, mine, rate=True)),
                        "denominator": _filter(metrics.requests(lb, *both, rate=True)),
                    }
                },
            )
        )
    return [
        _chart(f"{app.name}: requests/s by color", "requests/s", rate),
        _chart(f"{app.name}: 5xx ratio by color", "ratio", errors),
        _chart(f"{app.name}: p95 backend latency by color", "ms", p95),
        _chart(f"{app.name}: observed share of requests by color", "share", share),
    ]


def dashboard(stack: str, lb: LoadBalancer, apps: Sequence[CanaryApp]) -> dict[str, Any]:
    """The dashboard of ``stack``'s canary ``apps`` behind ``lb``: one row of four charts per
    app, in the order given."""
    names = [a.name for a in apps]
    if not apps or len(set(names)) != len(names):
        raise ValueError(f"apps {names!r}: need one or more, each once")
    per_row = COLUMNS // TILE_WIDTH
    tiles = []
    for row, app in enumerate(apps):
        for col, widget in enumerate(app_charts(lb, app)):
            tiles.append(
                {
                    "xPos": (col % per_row) * TILE_WIDTH,
                    "yPos": (row * ((4 + per_row - 1) // per_row) + col // per_row) * TILE_HEIGHT,
                    "width": TILE_WIDTH,
                    "height": TILE_HEIGHT,
                    "widget": widget,
                }
            )
    return {
        "displayName": f"gke-bluegreen {stack}: canary ({lb.kind})",
        "mosaicLayout": {"columns": COLUMNS, "tiles": tiles},
        "labels": {"gke-bluegreen": "", f"stack-{stack}": ""},
    }


def dashboard_json(stack: str, lb: LoadBalancer, apps: Sequence[CanaryApp]) -> str:
    """:func:`dashboard` as the JSON text ``gcp.monitoring.Dashboard`` takes: keys sorted, so the
    same apps always give the same text (no diff on an unrelated ``pulumi up``)."""
    return json.dumps(dashboard(stack, lb, apps), sort_keys=True, separators=(",", ":"))

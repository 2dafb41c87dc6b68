"""The canary dashboard JSON: parsed strictly with the Dashboards API's own message types
(google-cloud-monitoring-dashboards, ``google.monitoring.dashboard.v1.Dashboard``), and built from
the very queries the analysis sends."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from google.cloud.monitoring_dashboard_v1.types import Dashboard
from google.protobuf.json_format import ParseError

from infra.canary import dashboard, metrics
from infra.canary.dashboard import CanaryApp
from infra.canary.errors import CanaryError

LB = metrics.load_balancer("gke-l7-global-external-managed")
KUBIA = CanaryApp("kubia", "default", ("kubia-blue", "kubia-green"), 8080)
IMAGEVIEW = CanaryApp("imageview", "default", ("webserver-blue", "webserver-green"), 80)


def _strict(data: dict[str, Any]) -> Dashboard:
    parsed: Dashboard = Dashboard.from_json(json.dumps(data), ignore_unknown_fields=False)
    return parsed


@pytest.mark.parametrize("gateway_class", list(metrics.LOAD_BALANCERS))
def test_the_dashboard_is_a_dashboards_api_dashboard(gateway_class: str) -> None:
    lb = metrics.load_balancer(gateway_class)
    parsed = Dashboard.from_json(
        dashboard.dashboard_json("dev", lb, [KUBIA, IMAGEVIEW]), ignore_unknown_fields=False
    )
    tiles = parsed.mosaic_layout.tiles
    assert len(tiles) == 8
    assert [t.widget.title for t in tiles[:4]] == [
        "kubia: requests/s by color",
        "kubia: 5xx ratio by color",
        "kubia: p95 backend latency by color",
        "kubia: observed share of requests by color",
    ]
    for tile in tiles:
        assert tile.x_pos >= 0 and tile.x_pos + tile.width <= parsed.mosaic_layout.columns
        legends = [d.legend_template for d in tile.widget.xy_chart.data_sets]
        assert legends == ["blue", "green"]
    cells = {(t.x_pos, t.y_pos) for t in tiles}
    assert len(cells) == len(tiles), "tiles overlap"


def test_unknown_fields_and_bad_enums_are_refused_by_the_strict_parse() -> None:
    good = dashboard.dashboard("dev", LB, [KUBIA])
    _strict(good)
    extra = copy.deepcopy(good)
    extra["mosaicLayout"]["tiles"][0]["widget"]["xyChart"]["timeout"] = "5s"
    with pytest.raises(ParseError, match="timeout"):
        _strict(extra)
    enum = copy.deepcopy(good)
    data_set = enum["mosaicLayout"]["tiles"][0]["widget"]["xyChart"]["dataSets"][0]
    data_set["timeSeriesQuery"]["timeSeriesFilter"]["aggregation"]["perSeriesAligner"] = "ALIGN_P95"
    with pytest.raises(ParseError, match="ALIGN_P95"):
        _strict(enum)


def test_the_charts_use_the_analysis_queries() -> None:
    charts = dashboard.app_charts(LB, KUBIA)
    rate, errors, p95, share = (c["xyChart"]["dataSets"] for c in charts)
    blue = KUBIA.backend("blue")
    blue_rate = rate[0]["timeSeriesQuery"]["timeSeriesFilter"]
    assert blue_rate["filter"] == metrics.requests(LB, blue).filter
    assert blue_rate["aggregation"]["perSeriesAligner"] == "ALIGN_RATE"
    ratio = errors[0]["timeSeriesQuery"]["timeSeriesFilterRatio"]
    assert ratio["numerator"]["filter"] == metrics.server_errors(LB, blue).filter
    assert ratio["denominator"]["filter"] == metrics.requests(LB, blue).filter
    latency = p95[1]["timeSeriesQuery"]["timeSeriesFilter"]
    assert latency["filter"] == metrics.latency_p95(LB, KUBIA.backend("green")).filter
    assert latency["aggregation"]["crossSeriesReducer"] == "REDUCE_PERCENTILE_95"
    of_all = share[0]["timeSeriesQuery"]["timeSeriesFilterRatio"]["denominator"]["filter"]
    assert of_all == metrics.requests(LB, blue, KUBIA.backend("green")).filter


def test_the_same_apps_give_the_same_text() -> None:
    # The dashboard has no weight among its inputs: a shift cannot change it.
    assert dashboard.dashboard_json("dev", LB, [KUBIA]) == dashboard.dashboard_json(
        "dev", LB, [KUBIA]
    )


@pytest.mark.parametrize("apps", [[], [KUBIA, KUBIA]])
def test_apps_must_be_given_each_once(apps: list[CanaryApp]) -> None:
    with pytest.raises(ValueError, match="need one or more, each once"):
        dashboard.dashboard("dev", LB, apps)


def test_an_app_whose_backend_cannot_be_told_is_refused() -> None:
    long = CanaryApp(
        "x",
        "a-rather-long-namespace-name",
        ("and-a-long-app-name-blue", "and-a-long-app-name-green"),
        8080,
    )
    with pytest.raises(CanaryError, match="shortens backend service names"):
        dashboard.dashboard("dev", LB, [long])

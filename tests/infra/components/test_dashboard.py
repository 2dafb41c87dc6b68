"""infra/components/dashboard.py: one Cloud Monitoring dashboard per GKE stack with canary apps,
a Dashboards API dashboard (parsed strictly with that API's own types), charting each canary
app's own color Services, the ones its HTTPRoute sends traffic to, and unchanged by a release."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from google.cloud.monitoring_dashboard_v1.types import Dashboard

from infra.canary import metrics
from infra.canary.metrics import Backend
from infra.offline.program import Render
from infra.offline.stackfile import stack_names
from tests.infra.components.test_route import STARTED, weighted

Renderer = Callable[..., Render]
DASHBOARD = "gcp:monitoring/dashboard:Dashboard"
ROUTE = "kubernetes:gateway.networking.k8s.io/v1:HTTPRoute"


def filters_of(value: object) -> list[str]:
    """Every ``filter`` string in a dashboard, however deep."""
    if isinstance(value, dict):
        found = [v for k, v in value.items() if k == "filter" and isinstance(v, str)]
        return found + [f for v in value.values() for f in filters_of(v)]
    if isinstance(value, list):
        return [f for v in value for f in filters_of(v)]
    return []


def dashboard_text(r: Render) -> str:
    (one,) = r.of_type(DASHBOARD)
    text = one.inputs["dashboardJson"]
    assert isinstance(text, str)
    return text


@pytest.mark.parametrize(("stack", "app"), [("dev", "kubia"), ("prod", "imageview")])
def test_a_canary_stack_has_one_strict_dashboard(
    render_stack: Renderer, stack: str, app: str
) -> None:
    r = render_stack(stack)
    parsed = Dashboard.from_json(dashboard_text(r), ignore_unknown_fields=False)
    assert stack in parsed.display_name
    titles = [t.widget.title for t in parsed.mosaic_layout.tiles]
    assert len(titles) == 4 and all(t.startswith(f"{app}: ") for t in titles), titles
    (dashboard,) = r.of_type(DASHBOARD)
    assert dashboard.provider and "pulumi:providers:gcp" in dashboard.provider


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_it_charts_the_backends_the_route_sends_to(render_stack: Renderer, stack: str) -> None:
    """Each backendRef of the route names a Service the dashboard's filters select by its
    backend service's name (infra/canary/metrics.py ``Backend``)."""
    r = render_stack(stack)
    filters = filters_of(json.loads(dashboard_text(r)))
    lb = metrics.load_balancer("gke-l7-global-external-managed")
    (route,) = r.of_type(ROUTE)
    refs = {
        (ref["name"], ref["port"])
        for rule in route.inputs["spec"]["rules"]
        for ref in rule["backendRefs"]
    }
    assert len(refs) == 2
    for name, port in refs:
        one = metrics.backends_filter(lb.request_count, lb, (Backend("default", name, int(port)),))
        assert one in filters, (name, port)


def test_stacks_without_a_canary_have_none(render_stack: Renderer) -> None:
    with_one = {s for s in stack_names() if render_stack(s).of_type(DASHBOARD)}
    assert with_one == {"dev", "prod"}


@pytest.mark.parametrize("weight", [5, 100])
def test_a_release_step_leaves_it_as_it_is(render_stack: Renderer, weight: int) -> None:
    before = dashboard_text(render_stack("prod"))
    for sets in (STARTED, weighted(weight)):
        assert dashboard_text(render_stack("prod", sets)) == before
    promoted = render_stack("prod", ["apps.imageview.activeColor=green"])
    assert dashboard_text(promoted) == before
    assert json.loads(before)["labels"] == {"gke-bluegreen": "", "stack-prod": ""}

"""infra/components/route.py: a canary app's HTTPRoute (tester rule, weighted split over both
colors) and its colors' HealthCheckPolicy and GCPBackendPolicy; a weight change touches the route
and nothing else."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import pytest

from infra.offline.program import Render
from tests.helpers import SERVICE, manifest, one

Renderer = Callable[..., Render]
ROUTE = "kubernetes:gateway.networking.k8s.io/v1:HTTPRoute"
GATEWAY = "kubernetes:gateway.networking.k8s.io/v1:Gateway"
JOB = "kubernetes:batch/v1:Job"
#: What ``start`` records for prod's imageview: green as the candidate (the tests read no digest).
STARTED = (
    "apps.imageview.release.candidate.color=green",
    "apps.imageview.release.candidate.image=src-0123456789ab",
    "apps.imageview.release.candidate.config=" + "c" * 64,
)


def weighted(weight: int) -> tuple[str, ...]:
    return (*STARTED, f"apps.imageview.release.weight={weight}")


def registered(r: Render) -> dict[str, tuple[dict[str, Any], list[str]]]:
    """Every resource by URN: its inputs and dependencies (what an update compares)."""
    return {x.urn: (x.inputs, sorted(x.dependencies)) for x in r.resources}


def differing(a: Render, b: Render) -> set[str]:
    left, right = registered(a), registered(b)
    return {
        urn.rsplit("::", 1)[1]
        for urn in left.keys() | right.keys()
        if left.get(urn) != right.get(urn)
    }


def split(r: Render, route: str = "webserver") -> list[tuple[str, int]]:
    rules = manifest(r, "HTTPRoute", route)["spec"]["rules"]
    return [(b["name"], b["weight"]) for b in rules[1]["backendRefs"]]


def header_rule(r: Render, route: str = "webserver") -> tuple[dict[str, Any], list[str]]:
    rule = manifest(r, "HTTPRoute", route)["spec"]["rules"][0]
    return rule["matches"][0]["headers"][0], [b["name"] for b in rule["backendRefs"]]


def test_at_rest_live_takes_all_and_the_tester_header_reaches_the_idle_color(
    render_stack: Renderer,
) -> None:
    r = render_stack("prod")
    assert split(r) == [("webserver-blue", 100), ("webserver-green", 0)]
    assert header_rule(r) == (
        {"type": "Exact", "name": "x-canary", "value": "candidate"},
        ["webserver-green"],
    )
    parent = manifest(r, "HTTPRoute", "webserver")["spec"]["parentRefs"]
    assert parent == [
        {
            "group": "gateway.networking.k8s.io",
            "kind": "Gateway",
            "name": "gke-bluegreen",
            "sectionName": "http",
        }
    ]
    assert "hostnames" not in manifest(r, "HTTPRoute", "webserver")["spec"]


@pytest.mark.parametrize("weight", [5, 50, 100])
def test_a_shift_changes_the_route_and_nothing_else(render_stack: Renderer, weight: int) -> None:
    """Every resource of the stack, GCP and Kubernetes, by inputs and dependencies."""
    started, shifted = render_stack("prod", STARTED), render_stack("prod", weighted(weight))
    assert differing(started, shifted) == {"imageview-route"}
    assert split(shifted) == [("webserver-blue", 100 - weight), ("webserver-green", weight)]
    assert header_rule(shifted)[1] == ["webserver-green"]


def test_start_brings_the_candidate_to_full_size_before_any_weight(
    render_stack: Renderer,
) -> None:
    """prod keeps one idle pod (idleReplicas: 1); the candidate gets all three at start, and the
    route does not move: the tester header already reaches the idle color."""
    rest, started = render_stack("prod"), render_stack("prod", STARTED)
    assert manifest(rest, "Deployment", "webserver-green")["spec"]["replicas"] == 1
    assert manifest(started, "Deployment", "webserver-green")["spec"]["replicas"] == 3
    assert differing(rest, started) == {"imageview-green"}
    assert split(started) == split(rest)


def test_the_route_waits_for_the_gateway_both_services_and_both_gates(
    render_stack: Renderer,
) -> None:
    r = render_stack("prod")
    route = one(r, ROUTE, "imageview-route")
    wanted = [
        one(r, GATEWAY, "gateway"),
        one(r, SERVICE, "imageview-blue"),
        one(r, SERVICE, "imageview-green"),
        one(r, JOB, "imageview-smoke-blue"),
        one(r, JOB, "imageview-smoke-green"),
    ]
    assert {w.urn for w in wanted} <= set(route.dependencies)
    assert not [x.name for x in r.resources if route.urn in x.dependencies], "nothing waits on it"


@pytest.mark.parametrize("color", ["blue", "green"])
def test_each_color_service_gets_a_health_check_and_connection_draining(
    render_stack: Renderer, color: str
) -> None:
    """The exact objects (no published schema judges GKE's policy kinds; tests/stacks
    NO_SCHEMA): the readiness path at the readiness probe's pace on the serving port, and
    draining for as long as a pod may take to stop."""
    r = render_stack("prod")
    name = f"webserver-{color}"
    target = {"group": "", "kind": "Service", "name": name}
    labels = {"app": "imageview", "type": "webserver", "color": color, "role": "color"}
    health = manifest(r, "HealthCheckPolicy", name)
    assert health == {
        "apiVersion": "networking.gke.io/v1",
        "kind": "HealthCheckPolicy",
        "metadata": {"name": name, "labels": labels},
        "spec": {
            "default": {
                "checkIntervalSec": 5,
                "timeoutSec": 2,
                "unhealthyThreshold": 2,
                "config": {
                    "type": "HTTP",
                    "httpHealthCheck": {
                        "portSpecification": "USE_SERVING_PORT",
                        "requestPath": "/readyz",
                    },
                },
            },
            "targetRef": target,
        },
    }
    probe = manifest(r, "Deployment", name)["spec"]["template"]["spec"]["containers"][0]
    readiness = probe["readinessProbe"]
    assert (readiness["periodSeconds"], readiness["timeoutSeconds"]) == (5, 2)
    backend = manifest(r, "GCPBackendPolicy", name)
    assert backend["spec"] == {
        "default": {"connectionDraining": {"drainingTimeoutSec": 30}},
        "targetRef": target,
    }
    service = manifest(r, "Service", name)
    assert service["spec"]["selector"]["color"] == color, "a fixed color: weights move, it does not"


def test_host_names_go_into_the_route_and_the_url(render_stack: Renderer) -> None:
    r = render_stack(
        "prod",
        (
            "apps.imageview.canary.hostnames[0]=imageview.example.com",
            "apps.imageview.canary.hostnames[1]=www.imageview.example.com",
            "apps.imageview.canary.testerHeader=x-try",
        ),
    )
    route = manifest(r, "HTTPRoute", "webserver")
    assert route["spec"]["hostnames"] == ["imageview.example.com", "www.imageview.example.com"]
    assert header_rule(r)[0]["name"] == "x-try"
    assert r.outputs["apps"]["imageview"]["url"] == "http://imageview.example.com"


def test_a_canary_is_reached_at_the_gateway_address(render_stack: Renderer) -> None:
    r = render_stack("prod")
    address = one(r, "gcp:compute/globalAddress:GlobalAddress", "gateway-address").outputs
    app = r.outputs["apps"]["imageview"]
    assert (app["address"], app["url"]) == (address["address"], f"http://{address['address']}")
    assert manifest(r, "Service", "webserver")["spec"]["type"] == "ClusterIP"


def test_blue_green_apps_get_no_route(render_stack: Renderer) -> None:
    r = render_stack("dev")
    routes = [m["metadata"]["name"] for m in r.manifests() if m["kind"] == "HTTPRoute"]
    assert routes == ["kubia"]
    policies: Sequence[str] = sorted(
        m["metadata"]["name"]
        for m in r.manifests()
        if m["kind"] in ("HealthCheckPolicy", "GCPBackendPolicy")
    )
    assert policies == ["kubia-blue", "kubia-blue", "kubia-green", "kubia-green"]

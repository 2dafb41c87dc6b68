"""infra/components/apis.py: the APIs a stack uses are enabled before anything that needs them,
and never disabled by `pulumi destroy`."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from infra.offline.program import Render
from tests.helpers import plain

Renderer = Callable[..., Render]
SERVICE = "gcp:projects/service:Service"
BASE = {
    "container.googleapis.com",
    "compute.googleapis.com",
    "iam.googleapis.com",
    "cloudresourcemanager.googleapis.com",
}


#: A stack with canary apps (dev's kubia, prod's imageview) reads the load balancer's metrics.
MONITORING = {"monitoring.googleapis.com"}


@pytest.mark.parametrize(
    ("stack", "sets", "more"),
    [
        ("dev", (), {"artifactregistry.googleapis.com", *MONITORING}),
        ("imageview", (), {"artifactregistry.googleapis.com"}),
        ("prod", (), {"artifactregistry.googleapis.com", *MONITORING}),
        ("dev", ("registry.mode=legacy-bucket",), {"storage.googleapis.com", *MONITORING}),
    ],
)
def test_the_apis_a_stack_uses(
    render_stack: Renderer, stack: str, sets: tuple[str, ...], more: set[str]
) -> None:
    r = render_stack(stack, sets)
    services = [plain(s) for s in r.of_type(SERVICE)]
    assert {s["service"] for s in services} == BASE | more
    for s in services:
        assert s["disableOnDestroy"] is False, f"{s['service']} would be disabled on destroy"
        assert s["project"] == r.config.values["gke-bluegreen:project"]


@pytest.mark.parametrize("stack", ["dev", "imageview", "prod"])
def test_everything_in_gcp_waits_for_the_apis(render_stack: Renderer, stack: str) -> None:
    r = render_stack(stack)
    apis = {s.urn for s in r.of_type(SERVICE)}
    gcp = [
        x
        for x in r.resources
        if x.custom
        and x.type.startswith("gcp:")
        and x.type != SERVICE
        and "getClientConfig" not in x.type
    ]
    assert gcp
    for x in gcp:
        # Directly, or through a resource that does (the node pool waits for the cluster).
        assert apis <= set(x.dependencies) or any(
            apis <= set(d.dependencies) for d in r.resources if d.urn in x.dependencies
        ), f"{stack}: {x.type} {x.name} does not wait for the APIs"


def test_a_local_stack_enables_nothing(render_stack: Renderer) -> None:
    assert not render_stack("local").of_type(SERVICE)

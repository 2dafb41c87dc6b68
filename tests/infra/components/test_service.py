"""infra/components/service.py: the live Service selects the active color, the preview Service
the idle one."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from infra.offline.program import Render
from tests.helpers import manifest

Renderer = Callable[..., Render]


@pytest.mark.parametrize("stack", ["imageview", "dev", "prod", "local"])
def test_services_select_exactly_one_color(render_stack: Renderer, stack: str) -> None:
    r = render_stack(stack)
    pods = [
        m["spec"]["template"]["metadata"]["labels"]
        for m in r.manifests()
        if m["kind"] == "Deployment"
    ]
    for svc in (m for m in r.manifests() if m["kind"] == "Service"):
        matching = [p for p in pods if svc["spec"]["selector"].items() <= p.items()]
        assert len({p["color"] for p in matching}) == 1, svc["metadata"]["name"]
        if svc["spec"]["type"] == "LoadBalancer":
            assert svc["spec"]["externalTrafficPolicy"] == "Cluster"


SKIP_AWAIT = {"pulumi.com/skipAwait": "true"}


def test_a_local_cluster_never_waits_for_a_load_balancer_address(render_stack: Renderer) -> None:
    """Minikube gives a LoadBalancer no address without `minikube tunnel`; pulumi-kubernetes
    would wait 10 minutes for one and fail the update. S3's `kubia-http` keeps its name and type;
    reach it with `minikube service kubia-http --url`."""
    local = manifest(render_stack("local"), "Service", "kubia-http")
    assert local["spec"]["type"] == "LoadBalancer"
    assert local["metadata"]["annotations"] == SKIP_AWAIT
    gke = manifest(render_stack("dev"), "Service", "kubia-http")
    assert "annotations" not in gke["metadata"], "on GKE the address is awaited (the url output)"


@pytest.mark.parametrize("stack", ["imageview", "dev", "prod", "local"])
def test_preview_services_never_wait_for_pods(render_stack: Renderer, stack: str) -> None:
    """The idle color may run no pods (idleReplicas: 0); a preview Service awaiting endpoints
    would fail the update."""
    r = render_stack(stack)
    for app in r.outputs["apps"].values():
        preview = manifest(r, "Service", app["preview_service"])
        assert preview["metadata"]["annotations"] == SKIP_AWAIT

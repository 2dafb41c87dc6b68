"""infra/components/service.py: the live Service selects the active color, the preview Service
the idle one."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

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


def previews(r: Render) -> set[str]:
    """The names of the stack's preview Services."""
    return {app["preview_service"] for app in r.outputs["apps"].values()}


def waiting_previews(manifests: list[dict[str, Any]], names: set[str]) -> list[str]:
    """The preview Services (``names``, each rendered once) that pulumi-kubernetes would await:
    any whose annotations are not exactly ``SKIP_AWAIT``."""
    found = [m for m in manifests if m["kind"] == "Service" and m["metadata"]["name"] in names]
    assert sorted(m["metadata"]["name"] for m in found) == sorted(names)
    return [m["metadata"]["name"] for m in found if m["metadata"].get("annotations") != SKIP_AWAIT]


@pytest.mark.parametrize("stack", ["imageview", "dev", "prod", "local"])
def test_preview_services_never_wait_for_pods(render_stack: Renderer, stack: str) -> None:
    """The idle color may run no pods (idleReplicas: 0); a preview Service awaiting endpoints
    would fail the update."""
    r = render_stack(stack)
    assert waiting_previews(r.manifests(), previews(r)) == []


def test_a_preview_service_without_skip_await_fails_the_check(render_stack: Renderer) -> None:
    r = render_stack("dev")
    names = previews(r)
    broken = copy.deepcopy(r.manifests())
    victim = next(m for m in broken if m["kind"] == "Service" and m["metadata"]["name"] in names)
    del victim["metadata"]["annotations"]
    assert waiting_previews(broken, names) == [victim["metadata"]["name"]]

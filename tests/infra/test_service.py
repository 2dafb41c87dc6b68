"""infra/service.py: the live Service selects the active color, the preview Service the idle one."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from infra.offline.program import Render

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

"""The Service rules (policy/rules/services.py) on good and bad inputs."""

from __future__ import annotations

from typing import Any

from policy.rules.model import Context
from policy.rules.services import SERVICE
from tests.policy.rules.cases import DEV, run


def svc(app: str, type_: str) -> dict[str, Any]:
    return {
        "metadata": {"name": "webserver", "labels": {"app": app, "type": "webserver"}},
        "spec": {"type": type_, "selector": {"app": app, "color": "blue"}},
    }


def test_load_balancer_only_for_declaring_apps() -> None:
    ctx = Context(
        stack="dev",
        config={
            "apps": {
                "imageview": {"service": {"type": "LoadBalancer"}},
                "kubia": {"service": {"type": "ClusterIP"}},
            }
        },
    )
    assert run("load-balancer-declared", SERVICE, svc("imageview", "LoadBalancer"), ctx) == []
    assert run("load-balancer-declared", SERVICE, svc("kubia", "ClusterIP"), ctx) == []
    (msg,) = run("load-balancer-declared", SERVICE, svc("kubia", "LoadBalancer"), ctx)
    assert "apps.kubia.service.type: LoadBalancer" in msg and "(apps that do: imageview)" in msg
    (msg,) = run("load-balancer-declared", SERVICE, svc("kubia", "LoadBalancer"), DEV)
    assert "(apps that do: none)" in msg


def test_an_unlabelled_load_balancer_is_named_by_its_selector() -> None:
    lb = {"spec": {"type": "LoadBalancer", "selector": {"app": "kubia"}}}
    (msg,) = run("load-balancer-declared", SERVICE, lb, DEV)
    assert msg.startswith("Service '?' (app 'kubia')")

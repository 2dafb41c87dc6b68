"""Rules over Services and networking: which apps may have an external load balancer."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .model import Context, dig

SERVICE = "kubernetes:core/v1:Service"


def _declared_load_balancers(ctx: Context) -> set[str]:
    """Apps whose config declares ``service.type: LoadBalancer``."""
    apps = ctx.get("apps")
    if not isinstance(apps, Mapping):
        return set()
    return {name for name, app in apps.items() if dig(app, "service", "type") == "LoadBalancer"}


def check_load_balancer_declared(
    resource_type: str, inputs: Mapping[str, Any], ctx: Context
) -> list[str]:
    """A LoadBalancer Service exists only for an app whose config declares one."""
    if resource_type != SERVICE or dig(inputs, "spec", "type") != "LoadBalancer":
        return []
    name = str(dig(inputs, "metadata", "name") or "?")
    app = dig(inputs, "metadata", "labels", "app") or dig(inputs, "spec", "selector", "app")
    declared = _declared_load_balancers(ctx)
    if app in declared:
        return []
    allowed = ", ".join(sorted(declared)) or "none"
    return [
        f"Service '{name}' (app '{app or '?'}') is a LoadBalancer, but the stack config "
        f"does not declare apps.{app or '<app>'}.service.type: LoadBalancer "
        f"(apps that do: {allowed})"
    ]

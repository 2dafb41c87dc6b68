"""Rules over a canary's traffic: the GKE Gateway, each canary app's HTTPRoute and the load
balancer's health checks, and the Gateway API fields GKE does not accept.

A canary app (``apps.<app>.strategy: canary``) is reached only through its HTTPRoute, whose split
rule sends each request to one of the app's two color Services by ``weight``. What keeps a release
safe there:

* the route splits only between the app's own two colors (``canary-route-own-colors``): a backend
  of another app or a Service outside the release would take a share nothing measures;
* the split keeps both colors, the idle one at weight 0 (``canary-route-keeps-both-colors``): a
  rollback is then a weight change to a backend the load balancer already has, not a new backend
  it must first program and health-check;
* the Gateway's class splits by weight at all (``canary-gateway-class-splits``);
* each color Service the route sends to has a HealthCheckPolicy
  (``canary-health-check-per-color``): without one the load balancer probes ``/`` on its own
  schedule, not the readiness path that turns 503 while a pod drains;
* the objects use only what GKE accepts (``gke-gateway-supported``; docs/upstream.md W4 to W6).

Nothing here imports the program: the pack runs in its own venv. The app's color Services are
named as the program names them (``<deploymentName>-<color>``), which tests/policy checks against
the program's own renders.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from .model import CLUSTER, Context, Resource, dig, items

HTTP_ROUTE = "kubernetes:gateway.networking.k8s.io/v1:HTTPRoute"
GATEWAY = "kubernetes:gateway.networking.k8s.io/v1:Gateway"
HEALTH_CHECK_POLICY = "kubernetes:networking.gke.io/v1:HealthCheckPolicy"
BACKEND_POLICY = "kubernetes:networking.gke.io/v1:GCPBackendPolicy"
COLORS = ("blue", "green")

#: The single-cluster GKE GatewayClasses that split traffic by weight (GKE, "Deploy a
#: multi-cluster Gateway for weighted traffic splitting": the global and regional external
#: managed and rilb classes "have ... traffic splitting"; gke-l7-gxlb is not among them). The
#: program's own list is infra/config/gateway.py CLASSES; tests/policy checks they agree.
SPLITTING_CLASSES = (
    "gke-l7-global-external-managed",
    "gke-l7-regional-external-managed",
    "gke-l7-rilb",
)


def canary_apps(ctx: Context) -> dict[str, str]:
    """The stack's canary apps and their Deployment prefix (``deploymentName``, else the app)."""
    apps = ctx.get("apps")
    if not isinstance(apps, Mapping):
        return {}
    return {
        str(name): str(dig(app, "deploymentName") or name)
        for name, app in apps.items()
        if dig(app, "strategy") == "canary"
    }


def own_colors(ctx: Context, app: str) -> list[str]:
    """The names of the app's two color Services."""
    prefix = canary_apps(ctx).get(app, app)
    return [f"{prefix}-{color}" for color in COLORS]


def _name(inputs: Mapping[str, Any]) -> str:
    return str(dig(inputs, "metadata", "name") or "?")


def _is_service(ref: Any) -> bool:
    """A backendRef or targetRef naming a core Service (group and kind defaulted or explicit)."""
    return dig(ref, "group") in (None, "") and dig(ref, "kind") in (None, "Service")


def _split_rules(inputs: Mapping[str, Any]) -> list[tuple[int, Any]]:
    """The route's rules that match on no header: the ones every ordinary request takes."""
    return [
        (i, rule)
        for i, rule in enumerate(items(dig(inputs, "spec", "rules")))
        if not any(dig(m, "headers") for m in items(dig(rule, "matches")))
    ]


# --- canary-route-own-colors -------------------------------------------------------------------


def check_route_own_colors(
    resource_type: str, inputs: Mapping[str, Any], ctx: Context
) -> list[str]:
    """An HTTPRoute belongs to a canary app of the stack and sends only to its two colors."""
    if resource_type != HTTP_ROUTE:
        return []
    route, app = _name(inputs), str(dig(inputs, "metadata", "labels", "app") or "?")
    canaries = canary_apps(ctx)
    if app not in canaries:
        return [
            f"HTTPRoute '{route}' belongs to app '{app}', which the stack config does not "
            f"declare strategy: canary (canary apps: {', '.join(sorted(canaries)) or 'none'})"
        ]
    own = own_colors(ctx, app)
    out = []
    for i, rule in enumerate(items(dig(inputs, "spec", "rules"))):
        for ref in items(dig(rule, "backendRefs")):
            target = f"{dig(ref, 'kind') or 'Service'} '{dig(ref, 'name')}'"
            namespace = dig(ref, "namespace")
            if namespace:
                target += f" in namespace {namespace}"
            if not _is_service(ref) or dig(ref, "name") not in own or namespace:
                out.append(
                    f"HTTPRoute '{route}' rule {i} sends to {target}"
                    f"; app {app} may split only between its own color Services "
                    f"({', '.join(own)}), in the route's namespace"
                )
    return out


# --- canary-route-keeps-both-colors ------------------------------------------------------------


def check_route_keeps_both_colors(
    resource_type: str, inputs: Mapping[str, Any], ctx: Context
) -> list[str]:
    """The split rule names both colors, each once with an explicit weight (the idle one 0)."""
    if resource_type != HTTP_ROUTE:
        return []
    route, app = _name(inputs), str(dig(inputs, "metadata", "labels", "app") or "?")
    own = own_colors(ctx, app)
    splits = _split_rules(inputs)
    if not splits:
        return [f"HTTPRoute '{route}' has no rule without a header match: no request is split"]
    out = []
    for i, rule in splits:
        refs = items(dig(rule, "backendRefs"))
        names = [dig(ref, "name") for ref in refs]
        for color in own:
            if names.count(color) != 1:
                out.append(
                    f"HTTPRoute '{route}' rule {i} names {color} {names.count(color)} times; "
                    "keep each color exactly once, the idle one at weight 0, instead of removing "
                    "it (moving back is then a weight change to a backend that is still there)"
                )
        weights = [dig(ref, "weight") for ref in refs]
        if not all(_whole(w) for w in weights):
            out.append(
                f"HTTPRoute '{route}' rule {i} leaves a weight unset or not a whole number "
                f"({weights}); state every color's weight, 0 included (an unset weight means 1)"
            )
        elif refs and sum(weights) == 0:
            out.append(
                f"HTTPRoute '{route}' rule {i} gives every backend weight 0: every request "
                "would be answered 500"
            )
    return out


def _whole(weight: Any) -> bool:
    """A weight stated as a whole number of 0 or more (CrossGuard hands numbers over as floats)."""
    if isinstance(weight, bool) or not isinstance(weight, int | float):
        return False
    return float(weight).is_integer() and weight >= 0


# --- canary-gateway-class-splits ---------------------------------------------------------------


def check_gateway_class(resource_type: str, inputs: Mapping[str, Any], ctx: Context) -> list[str]:
    """A Gateway of a GatewayClass that splits by weight."""
    if resource_type != GATEWAY:
        return []
    class_name = dig(inputs, "spec", "gatewayClassName")
    if class_name in SPLITTING_CLASSES:
        return []
    return [
        f"Gateway '{_name(inputs)}' has gatewayClassName {class_name!r}, which does not split "
        f"traffic by weight on one cluster (allowed: {', '.join(SPLITTING_CLASSES)})"
    ]


def check_gateway_class_config(ctx: Context) -> list[str]:
    """The stack's ``gateway.className``, when set, is one that splits by weight."""
    class_name = ctx.get("gateway.className")
    if class_name is None or class_name in SPLITTING_CLASSES:
        return []
    return [
        f"gateway.className {class_name!r} does not split traffic by weight on one cluster "
        f"(allowed: {', '.join(SPLITTING_CLASSES)})"
    ]


# --- canary-health-check-per-color -------------------------------------------------------------


def check_health_check_per_color(
    resources: Sequence[Resource], ctx: Context
) -> list[tuple[str, str]]:
    """Every Service an HTTPRoute sends to has a HealthCheckPolicy targeting it (same
    namespace)."""
    checked = {
        (dig(r.inputs, "metadata", "namespace"), dig(r.inputs, "spec", "targetRef", "name"))
        for r in resources
        if r.type == HEALTH_CHECK_POLICY and _is_service(dig(r.inputs, "spec", "targetRef"))
    }
    out = []
    for r in resources:
        if r.type != HTTP_ROUTE:
            continue
        namespace = dig(r.inputs, "metadata", "namespace")
        wanted = []
        for rule in items(dig(r.inputs, "spec", "rules")):
            for ref in items(dig(rule, "backendRefs")):
                name = dig(ref, "name")
                if _is_service(ref) and name not in wanted:
                    wanted.append(name)
        for name in wanted:
            if (namespace, name) not in checked:
                out.append(
                    (
                        r.urn,
                        f"HTTPRoute '{_name(r.inputs)}' sends to Service '{name}', which no "
                        "HealthCheckPolicy targets: the load balancer would probe '/' instead of "
                        "the app's readiness path, and keep sending to a draining pod",
                    )
                )
    return out


# --- gke-gateway-supported ---------------------------------------------------------------------

#: GKE's own limits, each with where it is documented (docs/upstream.md W4 to W6).
GKE_DOCS = {
    "timeouts": (
        "GKE's Gateway controller does not implement HTTPRoute spec.rules[].timeouts and "
        "refuses the whole route (Accepted False, UnsupportedValue; GKE 'GatewayClass "
        "capabilities', kserve/kserve#5311)"
    ),
    "target": (
        "a single-cluster Gateway's HealthCheckPolicy and GCPBackendPolicy must refer to a "
        "Service (GKE 'Configure Gateway resources using Policies', Restrictions and "
        "Limitations)"
    ),
    "vpc-native": "GKE serves the Gateway API on VPC-native clusters only",
    "http-lb": "GKE's Gateway controller needs the cluster's HttpLoadBalancing add-on",
    "channel": "a canary's Gateway and routes need the Gateway API enabled (gatewayApiConfig)",
}


def check_gke_supported(resource_type: str, inputs: Mapping[str, Any], ctx: Context) -> list[str]:
    """Only what GKE's Gateway controller accepts, and a cluster that serves it."""
    if resource_type == HTTP_ROUTE:
        return [
            f"HTTPRoute '{_name(inputs)}' rule {i} sets timeouts: {GKE_DOCS['timeouts']}"
            for i, rule in enumerate(items(dig(inputs, "spec", "rules")))
            if dig(rule, "timeouts") is not None
        ]
    if resource_type in (HEALTH_CHECK_POLICY, BACKEND_POLICY):
        target = dig(inputs, "spec", "targetRef")
        kind = resource_type.rsplit(":", 1)[1]
        if not _is_service(target) or not dig(target, "name"):
            return [f"{kind} '{_name(inputs)}' targets {target}: {GKE_DOCS['target']}"]
        if dig(target, "namespace") not in (None, dig(inputs, "metadata", "namespace")):
            return [
                f"{kind} '{_name(inputs)}' targets a Service in another namespace "
                f"({dig(target, 'namespace')}): a policy lives in its Service's namespace"
            ]
        return []
    if resource_type == CLUSTER and canary_apps(ctx):
        out = []
        if dig(inputs, "gatewayApiConfig", "channel") != "CHANNEL_STANDARD":
            out.append(
                f"cluster has gatewayApiConfig {dig(inputs, 'gatewayApiConfig')}: "
                f"{GKE_DOCS['channel']}, channel CHANNEL_STANDARD (the CRDs vendored in "
                "vendor/gateway-api)"
            )
        if dig(inputs, "networkingMode") not in (None, "VPC_NATIVE"):
            out.append(
                f"cluster has networkingMode {dig(inputs, 'networkingMode')}: "
                f"{GKE_DOCS['vpc-native']}"
            )
        if dig(inputs, "addonsConfig", "httpLoadBalancing", "disabled") is True:
            out.append(f"cluster disables httpLoadBalancing: {GKE_DOCS['http-lb']}")
        return out
    return []

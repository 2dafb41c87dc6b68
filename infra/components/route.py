"""A canary app on the stack's Gateway: its HTTPRoute, and the load balancer's health check and
connection draining for each color's Service.

The route has two rules, both over every path:

* requests carrying the tester header (``canary.testerHeader: candidate``) go to one color only,
  :func:`infra.cutover.tester_color`: the candidate while a release runs, else the idle color, so
  people can try it through the real load balancer before it gets any share;
* every other request is split by ``weight`` between the two colors' own Services
  (:func:`infra.cutover.weights`): live 100, idle 0 at rest. The idle color keeps its place at
  weight 0 rather than leaving the rule, so moving traffic back is a weight change to a backend
  the load balancer already has.

The backends are the colors' own Services (``<deployment>-<color>``), whose selectors name one
color for good: a weight change changes this route and nothing else. A request with the tester
header matches both rules; Gateway API gives the rule with more header matches precedence.

Each color's Service gets a ``HealthCheckPolicy`` (the load balancer probes the app's readiness
path on the serving port, as often as the readiness probe, so a draining pod leaves the backend)
and a ``GCPBackendPolicy`` (connection draining for as long as a pod may take to stop), both in
the Service's namespace and naming it in ``targetRef``, which GKE requires of a single-cluster
Gateway's policies (networking.gke.io/v1; docs/upstream.md W4).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from infra import cutover, naming
from infra.components.gateway import GATEWAY_API, GatewayRef
from infra.settings import COLORS, TESTER_VALUE, AppSettings, Color

#: GKE's policy API (HealthCheckPolicy, GCPBackendPolicy).
GKE_NETWORKING_API = "networking.gke.io/v1"


@dataclass(frozen=True, kw_only=True)
class AppRouteArgs:
    """Inputs of :class:`AppRoute`."""

    app: AppSettings
    """A canary app."""
    gateway: GatewayRef
    """The stack's Gateway."""
    services: Mapping[Color, pulumi.Resource]
    """Each color's own Service."""
    gates: Sequence[pulumi.Resource]
    """What proves each color ready (its smoke Job, else its Deployment): the route changes only
    once both are."""


def service_target(app: AppSettings, color: Color) -> dict[str, str]:
    """A policy's ``targetRef``: the color's own Service, in the policy's namespace."""
    return {"group": "", "kind": "Service", "name": naming.color_service(app, color)}


def route_spec(app: AppSettings, gateway: str) -> dict[str, Any]:
    """The HTTPRoute's spec for the app as configured (weights from its release record)."""
    assert app.canary is not None, f"{app.name} is not a canary app"
    everything = {"path": {"type": "PathPrefix", "value": "/"}}

    def backend(color: Color, weight: int) -> dict[str, Any]:
        return {
            "group": "",
            "kind": "Service",
            "name": naming.color_service(app, color),
            "port": app.service.port,
            "weight": weight,
        }

    shares = cutover.weights(app)
    spec: dict[str, Any] = {
        "parentRefs": [
            {
                "group": "gateway.networking.k8s.io",
                "kind": "Gateway",
                "name": gateway,
                "sectionName": naming.GATEWAY_LISTENER,
            }
        ],
        "rules": [
            {
                "matches": [
                    {
                        **everything,
                        "headers": [
                            {
                                "type": "Exact",
                                "name": app.canary.tester_header,
                                "value": TESTER_VALUE,
                            }
                        ],
                    }
                ],
                "backendRefs": [backend(cutover.tester_color(app), 1)],
            },
            {
                "matches": [everything],
                "backendRefs": [backend(color, shares[color]) for color in COLORS],
            },
        ],
    }
    if app.canary.hostnames:
        spec["hostnames"] = list(app.canary.hostnames)
    return spec


def health_check_spec(app: AppSettings, color: Color) -> dict[str, Any]:
    """The HealthCheckPolicy's spec: the load balancer's own probe of the color's pods, on the
    readiness path at the readiness probe's pace."""
    return {
        "default": {
            "checkIntervalSec": cutover.READINESS_PERIOD_S,
            "timeoutSec": cutover.PROBE_TIMEOUT_S,
            "unhealthyThreshold": cutover.READINESS_FAILURES,
            "config": {
                "type": "HTTP",
                "httpHealthCheck": {
                    "portSpecification": "USE_SERVING_PORT",
                    "requestPath": app.readiness_path,
                },
            },
        },
        "targetRef": service_target(app, color),
    }


def backend_policy_spec(app: AppSettings, color: Color) -> dict[str, Any]:
    """The GCPBackendPolicy's spec: a pod leaving the backend keeps its open connections for as
    long as it may take to stop (``terminationGracePeriodSeconds``), not a second longer."""
    return {
        "default": {"connectionDraining": {"drainingTimeoutSec": app.termination_grace_seconds}},
        "targetRef": service_target(app, color),
    }


class AppRoute(pulumi.ComponentResource):
    """The app's HTTPRoute and its two colors' policies; takes the Kubernetes provider of its
    parent."""

    address: pulumi.Output[str]
    """The Gateway's address."""
    url: pulumi.Output[str]
    """``http://<first hostname, else the address>``: where users reach the app."""

    def __init__(
        self, name: str, args: AppRouteArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("gke-bluegreen:infra:AppRoute", name, None, opts)
        app = args.app
        assert app.canary is not None, f"{app.name} is not a canary app"
        for color in COLORS:
            after = pulumi.ResourceOptions(parent=self, depends_on=[args.services[color]])
            labels = {**cutover.selector(app, color), "role": "color"}
            k8s.apiextensions.CustomResource(
                naming.health_check_policy_resource(app.name, color),
                api_version=GKE_NETWORKING_API,
                kind="HealthCheckPolicy",
                metadata=k8s.meta.v1.ObjectMetaArgs(
                    name=naming.health_check_policy(app, color), labels=labels
                ),
                spec=health_check_spec(app, color),
                opts=after,
            )
            k8s.apiextensions.CustomResource(
                naming.backend_policy_resource(app.name, color),
                api_version=GKE_NETWORKING_API,
                kind="GCPBackendPolicy",
                metadata=k8s.meta.v1.ObjectMetaArgs(
                    name=naming.backend_policy(app, color), labels=labels
                ),
                spec=backend_policy_spec(app, color),
                opts=after,
            )
        k8s.apiextensions.CustomResource(
            naming.http_route_resource(app.name),
            api_version=GATEWAY_API,
            kind="HTTPRoute",
            metadata=k8s.meta.v1.ObjectMetaArgs(
                name=naming.http_route(app), labels=cutover.app_labels(app)
            ),
            spec=route_spec(app, args.gateway.name),
            opts=pulumi.ResourceOptions(
                parent=self,
                depends_on=[
                    args.gateway.resource,
                    *(args.services[c] for c in COLORS),
                    *args.gates,
                ],
            ),
        )
        port = args.gateway.listener_port
        suffix = "" if port == 80 else f":{port}"
        host = app.canary.hostnames[0] if app.canary.hostnames else None
        self.address = args.gateway.address
        self.url = self.address.apply(
            lambda a: f"http://{host or a}{suffix}" if (host or a) else ""
        )
        self.register_outputs({"address": self.address, "url": self.url})

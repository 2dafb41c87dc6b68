"""The stack's canary dashboard: a Cloud Monitoring dashboard with, per canary app and color, the
request rate, the 5xx ratio, the p95 latency and each color's observed share of requests, built
by :mod:`infra.canary.dashboard` from the very queries the release tool's analysis sends between
steps (:mod:`infra.canary.metrics`: one definition for both).

It reads the apps, their colors' Services (their namespace as the cluster gave it) and the
GatewayClass, never a weight or the release record, so a shift, an abort or a promote leaves it
as it is: it shows metrics, not config.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pulumi
import pulumi_gcp as gcp
import pulumi_kubernetes as k8s

from infra import naming
from infra.canary import dashboard, metrics
from infra.settings import AppSettings, Color, GkeTarget, Settings

#: The Pulumi resource name of the one dashboard of a stack.
DASHBOARD_RESOURCE = "canary-dashboard"


@dataclass(frozen=True, kw_only=True)
class CanaryDashboardArgs:
    """Inputs of :class:`CanaryDashboard`."""

    stack: str
    project: str
    """The GCP project the dashboard lives in."""
    lb: metrics.LoadBalancer
    """The load balancer the stack's GatewayClass gives, whose metrics the charts read."""
    apps: list[tuple[AppSettings, pulumi.Output[str]]]
    """Each canary app with the namespace its colors' Services are in."""
    after: list[pulumi.Resource]
    """What the dashboard waits for: the project's APIs (Monitoring among them)."""


class CanaryDashboard(pulumi.ComponentResource):
    """The stack's canary dashboard; takes the GCP provider given in its ``providers``."""

    dashboard: gcp.monitoring.Dashboard

    def __init__(
        self, name: str, args: CanaryDashboardArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("gke-bluegreen:infra:CanaryDashboard", name, None, opts)
        apps = args.apps

        def text(namespaces: list[str]) -> str:
            return dashboard.dashboard_json(
                args.stack,
                args.lb,
                [
                    dashboard.CanaryApp(
                        app.name,
                        namespace,
                        (naming.color_service(app, "blue"), naming.color_service(app, "green")),
                        app.service.port,
                    )
                    for (app, _), namespace in zip(apps, namespaces, strict=True)
                ],
            )

        self.dashboard = gcp.monitoring.Dashboard(
            name,
            project=args.project,
            dashboard_json=pulumi.Output.all(*(ns for _, ns in apps)).apply(text),
            opts=pulumi.ResourceOptions(parent=self, depends_on=args.after),
        )
        self.register_outputs({})


def canary_dashboard(
    settings: Settings,
    color_services: Mapping[str, Mapping[Color, k8s.core.v1.Service]],
    provider: pulumi.ProviderResource | None,
    apis: pulumi.Resource | None,
) -> CanaryDashboard | None:
    """Registers the stack's dashboard with the GCP ``provider``, once the stack's ``apis`` are
    on (the Monitoring API among them), when it is a GKE stack with canary apps;
    ``color_services``: each app's colors' own Services, by app name."""
    target = settings.target
    canaries = [app for app in settings.apps.values() if app.strategy == "canary"]
    if not canaries or not isinstance(target, GkeTarget) or target.gateway is None:
        return None
    apps = [
        (app, color_services[app.name]["blue"].metadata.apply(lambda m: m.namespace or "default"))
        for app in canaries
    ]
    return CanaryDashboard(
        DASHBOARD_RESOURCE,
        CanaryDashboardArgs(
            stack=settings.stack,
            project=target.project,
            lb=metrics.load_balancer(target.gateway.class_name),
            apps=apps,
            after=[apis] if apis else [],
        ),
        opts=pulumi.ResourceOptions(providers=[provider] if provider else None),
    )

"""The Services of a blue/green app: the live one selects the active color, the preview one the
idle color.

Cutting over is a change of the live Service's ``color`` selector (S4's manual edit). The live
Service depends on the active color's gate: its smoke Job, which pulumi-kubernetes awaits until it
completes (and which itself waits for the color's Deployment to be ready), or the Deployment when
smoke checks are off. So the selector only moves once the new color has proven itself.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

from infra import cutover, naming
from infra.settings import AppSettings


@dataclass(frozen=True, kw_only=True)
class AppServiceArgs:
    """Inputs of :class:`AppService`."""

    app: AppSettings
    """The app."""
    gate: pulumi.Resource
    """What the live Service waits for: the active color's smoke Job (it completes only once the
    color answers), or its Deployment when smoke checks are off."""
    await_load_balancer: bool = True
    """Wait for a LoadBalancer Service's address. False where no load balancer controller runs
    (Minikube without ``minikube tunnel``), so ``pulumi up`` finishes there."""


#: pulumi-kubernetes' opt-out of its await logic (pulumi/pulumi-kubernetes
#: provider/pkg/metadata/annotations.go at 9497796, ``pulumi.com/skipAwait``). Its Service await
#: (provider/pkg/await/service.go) waits, up to 10 minutes, for endpoints that target ready pods
#: and, for a LoadBalancer, for an ingress address.
SKIP_AWAIT = {"pulumi.com/skipAwait": "true"}


class AppService(pulumi.ComponentResource):
    """Live Service (seed type and port) and ClusterIP preview Service; both take the Kubernetes
    provider of the component's parent (or its own ``providers``)."""

    live: k8s.core.v1.Service
    """The Service users reach."""
    address: pulumi.Output[str]
    """External IP or host name of a LoadBalancer Service; cluster DNS name otherwise."""
    url: pulumi.Output[str]
    """``http://<address>[:port]`` of the live Service ("" until a load balancer has an IP)."""
    preview_name: pulumi.Output[str]
    """Name of the ClusterIP Service that selects the idle color."""

    def __init__(
        self, name: str, args: AppServiceArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("gke-bluegreen:infra:AppService", name, None, opts)
        app = args.app
        port = k8s.core.v1.ServicePortArgs(
            name=app.port_name, port=app.service.port, target_port=app.port_name, protocol="TCP"
        )
        labels = cutover.app_labels(app)
        skip_address = app.service.type == "LoadBalancer" and not args.await_load_balancer
        self.live = k8s.core.v1.Service(
            naming.live_service_resource(name),
            metadata=k8s.meta.v1.ObjectMetaArgs(
                name=app.service.name,
                labels=labels,
                # No load balancer controller: the address would never come (use
                # `minikube service <name> --url`, or `minikube tunnel`).
                annotations=SKIP_AWAIT if skip_address else None,
            ),
            spec=k8s.core.v1.ServiceSpecArgs(
                type=app.service.type,
                # Cluster: any node forwards to any ready pod, so a node without a pod of the
                # new color does not blackhole traffic during a cutover.
                external_traffic_policy="Cluster" if app.service.type != "ClusterIP" else None,
                selector=cutover.selector(app, app.active_color),
                ports=[port],
            ),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[args.gate]),
        )
        preview = k8s.core.v1.Service(
            naming.preview_service_resource(name),
            metadata=k8s.meta.v1.ObjectMetaArgs(
                name=app.service.preview_name,
                labels={**labels, "role": "preview"},
                # The idle color may run no pods (idleReplicas: 0): awaiting endpoints would fail
                # the update after 10 minutes. Its pods' readiness is awaited on its Deployment.
                annotations=SKIP_AWAIT,
            ),
            spec=k8s.core.v1.ServiceSpecArgs(
                type="ClusterIP",
                selector=cutover.selector(app, cutover.idle_color(app)),
                ports=[port],
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )
        if app.service.type == "LoadBalancer":
            ingress = self.live.status.load_balancer.ingress
            self.address = ingress.apply(
                lambda items: (items[0].ip or items[0].hostname or "") if items else ""
            )
        else:
            self.address = pulumi.Output.from_input(f"{app.service.name}.default.svc.cluster.local")
        suffix = "" if app.service.port == 80 else f":{app.service.port}"
        self.url = self.address.apply(lambda a: f"http://{a}{suffix}" if a else "")
        self.preview_name = preview.metadata.name
        self.register_outputs(
            {"address": self.address, "url": self.url, "preview_name": self.preview_name}
        )

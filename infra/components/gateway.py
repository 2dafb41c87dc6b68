"""The stack's GKE Gateway: one load balancer for every canary app, on a reserved static address.

GKE builds the Google Cloud load balancer of the Gateway's GatewayClass (infra/config/gateway.py
says which classes a canary may use) and gives it the address the Gateway names
(``spec.addresses``: ``NamedAddress``, the name of a reserved Compute Engine address), so the
address survives the Gateway and stays the same across releases. The global class takes a global
address; the regional classes a regional one (internal for ``gke-l7-rilb``, in the region's
``default`` subnet, the one the cluster's nodes use) and a proxy-only subnet in the region, which
the program creates when the stack gives its range.

The Gateway has one plain-HTTP listener on port 80 that accepts routes from its own namespace, the
apps' (``allowedRoutes`` Same). Each canary app attaches its HTTPRoute to it
(:mod:`infra.components.route`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_gcp as gcp
import pulumi_kubernetes as k8s

from infra import naming
from infra.settings import GatewaySettings

#: gateway.networking.k8s.io, the version GKE serves (vendor/gateway-api).
GATEWAY_API = "gateway.networking.k8s.io/v1"
#: The listener's port: plain HTTP.
LISTENER_PORT = 80
#: The network GKE runs the cluster in (the cluster component names none: the project's default).
NETWORK = "default"


@dataclass(frozen=True, kw_only=True)
class StackGatewayArgs:
    """Inputs of :class:`StackGateway`."""

    settings: GatewaySettings
    """The Gateway's class, address name and proxy-only subnet."""
    cluster: str
    """The cluster's name (the proxy-only subnet is named after it)."""
    project: str
    """GCP project id."""
    region: str
    """GCP region (regional classes)."""
    labels: dict[str, str]
    """Labels on the address."""
    after: Sequence[pulumi.Resource] = ()
    """What the GCP resources wait for (the project's APIs). A component's own ``depends_on``
    does not reach its children."""


@dataclass(frozen=True, kw_only=True)
class GatewayRef:
    """What a canary app's route needs of the Gateway."""

    name: str
    """The Gateway object's name (its parentRef)."""
    listener_port: int
    """The port its listener answers on."""
    address: pulumi.Output[str]
    """The reserved IP address it answers on."""
    resource: pulumi.Resource
    """The Gateway object, for the routes to wait for."""


class StackGateway(pulumi.ComponentResource):
    """The reserved address (and proxy-only subnet) and the Gateway object. Give it the GCP and
    the Kubernetes provider as ``ResourceOptions(providers=[...])``."""

    ref: GatewayRef
    """What the apps' routes attach to."""

    def __init__(
        self, name: str, args: StackGatewayArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("gke-bluegreen:infra:Gateway", name, None, opts)
        s = args.settings
        child = pulumi.ResourceOptions(parent=self, depends_on=list(args.after))
        address = self._address(args, child)
        after: list[pulumi.Resource] = []
        if s.proxy_subnet_cidr is not None:
            after.append(
                gcp.compute.Subnetwork(
                    naming.proxy_subnet_resource(),
                    name=naming.proxy_subnet(args.cluster),
                    project=args.project,
                    region=args.region,
                    network=NETWORK,
                    ip_cidr_range=s.proxy_subnet_cidr,
                    purpose="REGIONAL_MANAGED_PROXY",
                    role="ACTIVE",
                    opts=child,
                )
            )
        gateway = k8s.apiextensions.CustomResource(
            naming.GATEWAY_RESOURCE,
            api_version=GATEWAY_API,
            kind="Gateway",
            metadata=k8s.meta.v1.ObjectMetaArgs(
                name=naming.GATEWAY, labels={"app.kubernetes.io/managed-by": "pulumi"}
            ),
            spec={
                "gatewayClassName": s.class_name,
                "addresses": [{"type": "NamedAddress", "value": address.name}],
                "listeners": [
                    {
                        "name": naming.GATEWAY_LISTENER,
                        "protocol": "HTTP",
                        "port": LISTENER_PORT,
                        "allowedRoutes": {"namespaces": {"from": "Same"}},
                    }
                ],
            },
            opts=pulumi.ResourceOptions(parent=self, depends_on=after),
        )
        self.ref = GatewayRef(
            name=naming.GATEWAY,
            listener_port=LISTENER_PORT,
            address=address.address,
            resource=gateway,
        )
        self.register_outputs({"address": address.address})

    def _address(
        self, args: StackGatewayArgs, child: pulumi.ResourceOptions
    ) -> gcp.compute.GlobalAddress | gcp.compute.Address:
        """The static IPv4 address the load balancer answers on."""
        s = args.settings
        description = f"GKE Gateway {naming.GATEWAY} ({s.class_name})"
        if s.is_global:
            return gcp.compute.GlobalAddress(
                naming.gateway_address_resource(),
                name=s.address_name,
                project=args.project,
                address_type="EXTERNAL",
                ip_version="IPV4",
                description=description,
                labels=args.labels,
                opts=child,
            )
        return gcp.compute.Address(
            naming.gateway_address_resource(),
            name=s.address_name,
            project=args.project,
            region=args.region,
            address_type="INTERNAL" if s.is_internal else "EXTERNAL",
            subnetwork=(
                f"projects/{args.project}/regions/{args.region}/subnetworks/{NETWORK}"
                if s.is_internal
                else None
            ),
            description=description,
            labels=args.labels,
            opts=child,
        )

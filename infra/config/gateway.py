"""The ``gateway`` section: the one GKE Gateway of a stack whose apps include a canary, its
GatewayClass, the static address it answers on, and (regional classes) the proxy-only subnet.

Which GatewayClasses, and why (GKE's own pages, docs/upstream.md W1 to W3):

* a canary sends a share of the requests to each color by the HTTPRoute's ``weight``: GKE names
  ``gke-l7-global-external-managed``, ``gke-l7-regional-external-managed`` and ``gke-l7-rilb``
  (and their multi-cluster variants) as the classes with weight-based traffic splitting
  ("Deploy a multi-cluster Gateway for weighted traffic splitting",
  docs.cloud.google.com/kubernetes-engine/docs/how-to/deploy-gateway-traffic-splitting);
  ``gke-l7-gxlb`` (the classic Application Load Balancer) is not among them;
* the ``-mc`` classes are multi-cluster Gateways: they route to ServiceImports of a fleet, and
  this program runs one cluster whose HTTPRoutes name Services;
* the regional classes need a proxy-only subnet in the region ("GKE Gateway controller
  requirements", docs.cloud.google.com/kubernetes-engine/docs/how-to/configure-gateway-resources).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from typing import cast

from infra import naming
from infra.config.reader import Node, dns_label, string
from infra.settings import (
    AppSettings,
    ClusterSettings,
    ConfigError,
    GatewayClassName,
    GatewaySettings,
)

CLASSES: tuple[GatewayClassName, ...] = (
    "gke-l7-global-external-managed",
    "gke-l7-regional-external-managed",
    "gke-l7-rilb",
)
DEFAULT_CLASS: GatewayClassName = "gke-l7-global-external-managed"
_MULTI_CLUSTER = (
    "a multi-cluster class: it routes to the ServiceImports of a fleet, and this stack runs one "
    "cluster whose routes name its Services"
)
#: GKE GatewayClasses a canary cannot use, and why.
REFUSED: Mapping[str, str] = {
    "gke-l7-gxlb": (
        "the classic Application Load Balancer, which GKE does not list among the classes that "
        "split traffic by weight (a canary keeps two weighted backends in one rule)"
    ),
    "gke-l7-gxlb-mc": "the classic Application Load Balancer, multi-cluster: no weights",
    "gke-l7-global-external-managed-mc": _MULTI_CLUSTER,
    "gke-l7-regional-external-managed-mc": _MULTI_CLUSTER,
    "gke-l7-rilb-mc": _MULTI_CLUSTER,
    "gke-l7-cross-regional-internal-managed-mc": _MULTI_CLUSTER,
}
#: A proxy-only subnet's range: /26 or larger (fewer addresses cannot hold the proxies).
PROXY_SUBNET_PREFIX_MAX = 26


def parse(
    node: Node, cluster: ClusterSettings, apps: Mapping[str, AppSettings]
) -> GatewaySettings | None:
    """Reads ``gateway`` when an app of the stack is a canary (``None`` otherwise), and checks
    that the canary apps' routes can share the one Gateway."""
    canaries = [app for app in apps.values() if app.strategy == "canary"]
    if not canaries:
        if node.data:
            raise ConfigError(
                node.path,
                dict(node.data),
                "set only when an app uses strategy: canary (no app of this stack does)",
            )
        return None
    _routes_can_share(canaries)
    class_name = cast(GatewayClassName, node.get("className", _class_name, str(DEFAULT_CLASS)))
    settings = GatewaySettings(
        class_name=class_name,
        address_name=node.get(
            "addressName", dns_label(naming.DNS_LABEL_MAX), naming.gateway_address(cluster.name)
        ),
        proxy_subnet_cidr=node.get("proxySubnetCidr", _proxy_subnet, None),
    )
    if settings.proxy_subnet_cidr is not None and settings.is_global:
        raise ConfigError(
            node.key("proxySubnetCidr"),
            settings.proxy_subnet_cidr,
            f"set only for a regional class ({', '.join(CLASSES[1:])}); {class_name} needs none",
        )
    node.done("className, addressName, proxySubnetCidr")
    return settings


def _class_name(key: str, value: object) -> str:
    name = string(key, value)
    if name in REFUSED:
        raise ConfigError(key, value, f"{name} is {REFUSED[name]}; allowed: {', '.join(CLASSES)}")
    if name not in CLASSES:
        raise ConfigError(
            key, value, f"a GKE GatewayClass that splits by weight: {', '.join(CLASSES)}"
        )
    return name


def _proxy_subnet(key: str, value: object) -> str:
    text = string(key, value)
    allowed = (
        f"a private IPv4 range of /{PROXY_SUBNET_PREFIX_MAX} or larger that no subnet of the "
        "network uses, such as 10.129.0.0/23"
    )
    try:
        net = ipaddress.IPv4Network(text)
    except ValueError:
        raise ConfigError(key, value, allowed) from None
    if not net.is_private or net.prefixlen > PROXY_SUBNET_PREFIX_MAX:
        raise ConfigError(key, value, allowed)
    return text


def _routes_can_share(canaries: list[AppSettings]) -> None:
    """Two routes on one listener that match the same host and path would race for it (the older
    route wins): at most one canary app answers every host, and no host name is claimed twice."""
    catch_all: str | None = None
    claimed: dict[str, str] = {}
    for app in canaries:
        assert app.canary is not None
        key = f"apps.{app.name}.canary.hostnames"
        if not app.canary.hostnames:
            if catch_all is not None:
                raise ConfigError(
                    key,
                    None,
                    f"set: apps {catch_all} and {app.name} both answer every host name on the "
                    "stack's one Gateway; give at least one of them hostnames",
                )
            catch_all = app.name
        for host in app.canary.hostnames:
            if host in claimed:
                raise ConfigError(key, host, f"a host name app {claimed[host]} does not claim")
            claimed[host] = app.name

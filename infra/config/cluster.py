"""The ``cluster`` section: one GKE cluster and its managed node pool."""

from __future__ import annotations

import ipaddress
import re

from infra.config.reader import Node, boolean, choice, dns_label, int_in, match, string
from infra.naming import GKE_NAME_MAX
from infra.settings import AuthorizedNetwork, ClusterSettings, ConfigError

#: Machine type families GKE node pools accept (x86 and Arm general purpose, compute-,
#: memory- and accelerator-optimized). A typo such as ``n1standard-1`` fails here, not in GCP.
MACHINE_FAMILIES = frozenset(
    "e2 n1 n2 n2d n4 n4d c2 c2d c3 c3d c4 c4a c4d t2a t2d m1 m2 m3 m4 a2 a3 a4 g2 h3 z3".split()  # noqa: SIM905
)
RELEASE_CHANNELS = ("RAPID", "REGULAR", "STABLE", "EXTENDED", "UNSPECIFIED")

REGION = re.compile(r"[a-z]+-[a-z]+[0-9]+")
_ZONE = re.compile(r"([a-z]+-[a-z]+[0-9]+)-[a-z]")
_MACHINE_TYPE = re.compile(r"([a-z][a-z0-9]*)-[a-z0-9-]+")
_GKE_VERSION = re.compile(r"1\.[0-9]{1,3}(\.[0-9]{1,3}(-gke\.[0-9]{1,12})?)?")

region = match(REGION, "a GCP region such as asia-northeast1 or us-central1")


def parse(node: Node, stack: str, region_name: str) -> ClusterSettings:
    """Reads ``cluster``; the cluster is named after the stack unless ``cluster.name`` says."""
    name = node.get("name", dns_label(GKE_NAME_MAX), stack)
    zone = node.get("zone", match(_ZONE, "a GCP zone such as asia-northeast1-a"), None)
    if zone is not None and not zone.startswith(f"{region_name}-"):
        raise ConfigError(node.key("zone"), zone, f"the zone must be in region {region_name}")

    machine_type = node.get("machineType", string, "e2-standard-2")
    family = _MACHINE_TYPE.fullmatch(machine_type)
    if not family or family.group(1) not in MACHINE_FAMILIES:
        raise ConfigError(
            node.key("machineType"),
            machine_type,
            f"use a GKE machine type such as n1-standard-1 or e2-standard-2; "
            f"known families: {', '.join(sorted(MACHINE_FAMILIES))}",
        )

    node_count = node.get("nodeCount", int_in(1, 1000), None)
    scaling = node.child("autoscaling")
    min_nodes = scaling.get("minNodes", int_in(0, 1000), None)
    max_nodes = scaling.get("maxNodes", int_in(1, 1000), None)
    scaling.done("minNodes, maxNodes")
    if (min_nodes is None) != (max_nodes is None):
        raise ConfigError(scaling.path, scaling.data, "set both minNodes and maxNodes")
    if min_nodes is not None and max_nodes is not None:
        if node_count is not None:
            raise ConfigError(
                node.key("nodeCount"), node_count, "set either nodeCount or autoscaling, not both"
            )
        if min_nodes > max_nodes:
            raise ConfigError(
                scaling.key("minNodes"), min_nodes, f"must not exceed maxNodes ({max_nodes})"
            )
    elif node_count is None:
        node_count = 1

    auto_upgrade = node.get("autoUpgrade", boolean, True)
    channel = node.get("releaseChannel", choice(*RELEASE_CHANNELS), "REGULAR")
    if channel != "UNSPECIFIED" and not auto_upgrade:
        raise ConfigError(
            node.key("releaseChannel"),
            channel,
            "GKE requires node auto-upgrade in a release channel; with "
            "autoUpgrade false use UNSPECIFIED and pin version",
        )

    master_cidr = node.get("masterCidr", string, "172.16.0.0/28")
    try:
        net = ipaddress.ip_network(master_cidr)
        if net.prefixlen != 28 or net.version != 4 or not net.is_private:
            raise ValueError
    except ValueError:
        raise ConfigError(
            node.key("masterCidr"), master_cidr, "expected a private IPv4 /28 such as 172.16.0.0/28"
        ) from None

    settings = ClusterSettings(
        name=name,
        location=zone or region_name,
        zonal=zone is not None,
        machine_type=machine_type,
        node_count=node_count,
        min_nodes=min_nodes,
        max_nodes=max_nodes,
        disk_size_gb=node.get("diskSizeGb", int_in(10, 65536), 50),
        spot=node.get("spot", boolean, False),
        auto_repair=node.get("autoRepair", boolean, True),
        auto_upgrade=auto_upgrade,
        release_channel=channel,
        version=node.get(
            "version", match(_GKE_VERSION, "a GKE version such as 1.32 or 1.32.4-gke.1106000"), None
        ),
        deletion_protection=node.get("deletionProtection", boolean, True),
        private_nodes=node.get("privateNodes", boolean, False),
        master_cidr=master_cidr,
        authorized_networks=_authorized_networks(node),
    )
    node.done()
    return settings


def _authorized_networks(node: Node) -> tuple[AuthorizedNetwork, ...]:
    raw = node.raw("authorizedNetworks") or []
    if not isinstance(raw, list):
        raise ConfigError(
            node.key("authorizedNetworks"), raw, "expected a list of {cidrBlock, displayName}"
        )
    networks: list[AuthorizedNetwork] = []
    for i, item in enumerate(raw):
        entry = Node(node.key(f"authorizedNetworks[{i}]"), item)
        cidr = entry.require("cidrBlock", string, "an IPv4 CIDR such as 203.0.113.0/24")
        try:
            ipaddress.IPv4Network(cidr)
        except ValueError:
            raise ConfigError(
                entry.key("cidrBlock"), cidr, "expected an IPv4 CIDR such as 203.0.113.0/24"
            ) from None
        networks.append(
            AuthorizedNetwork(cidr_block=cidr, display_name=entry.get("displayName", string, cidr))
        )
        entry.done("cidrBlock, displayName")
    return tuple(networks)

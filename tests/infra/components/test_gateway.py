"""infra/components/gateway.py: the stack's one Gateway, on a reserved address of the right scope
for its class, and the cluster that serves the Gateway API, only where an app is a canary."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from infra.offline.program import Render
from tests.helpers import CLUSTER, manifest, one, plain

Renderer = Callable[..., Render]
GATEWAY = "kubernetes:gateway.networking.k8s.io/v1:Gateway"
GLOBAL = "gcp:compute/globalAddress:GlobalAddress"
REGIONAL = "gcp:compute/address:Address"
SUBNET = "gcp:compute/subnetwork:Subnetwork"


def test_a_canary_stack_gets_one_gateway_on_its_global_address(render_stack: Renderer) -> None:
    r = render_stack("dev")
    address = one(r, GLOBAL, "gateway-address")
    assert plain(address) | {"__provider": None} == {
        "name": "dev-gateway",
        "project": "gke-bluegreen-dev",
        "addressType": "EXTERNAL",
        "ipVersion": "IPV4",
        "description": "GKE Gateway gke-bluegreen (gke-l7-global-external-managed)",
        "labels": {"managed-by": "pulumi", "project": "gke-bluegreen", "stack": "dev"},
        "__provider": None,
    }
    gateway = manifest(r, "Gateway", "gke-bluegreen")
    assert gateway["spec"] == {
        "gatewayClassName": "gke-l7-global-external-managed",
        "addresses": [{"type": "NamedAddress", "value": "dev-gateway"}],
        "listeners": [
            {
                "name": "http",
                "protocol": "HTTP",
                "port": 80,
                "allowedRoutes": {"namespaces": {"from": "Same"}},
            }
        ],
    }
    assert address.urn in one(r, GATEWAY, "gateway").dependencies
    assert not r.of_type(REGIONAL) and not r.of_type(SUBNET)


def test_the_address_waits_for_the_projects_apis(render_stack: Renderer) -> None:
    r = render_stack("dev")
    apis = [x.urn for x in r.resources if x.type.startswith("gcp:projects/service:Service")]
    assert apis and set(apis) <= set(one(r, GLOBAL, "gateway-address").dependencies)


@pytest.mark.parametrize(
    ("class_name", "address_type", "subnetwork"),
    [
        ("gke-l7-regional-external-managed", "EXTERNAL", None),
        (
            "gke-l7-rilb",
            "INTERNAL",
            "projects/gke-bluegreen-prod/regions/asia-northeast1/subnetworks/default",
        ),
    ],
)
def test_a_regional_class_gets_a_regional_address_and_its_proxy_only_subnet(
    render_stack: Renderer, class_name: str, address_type: str, subnetwork: str | None
) -> None:
    r = render_stack(
        "prod",
        (f"gateway.className={class_name}", "gateway.proxySubnetCidr=10.129.0.0/23"),
    )
    assert not r.of_type(GLOBAL)
    address = plain(one(r, REGIONAL, "gateway-address"))
    assert (address["region"], address["addressType"], address.get("subnetwork")) == (
        "asia-northeast1",
        address_type,
        subnetwork,
    )
    subnet = one(r, SUBNET, "gateway-proxy-only")
    assert plain(subnet) | {"__provider": None} == {
        "name": "prod-proxy-only",
        "project": "gke-bluegreen-prod",
        "region": "asia-northeast1",
        "network": "default",
        "ipCidrRange": "10.129.0.0/23",
        "purpose": "REGIONAL_MANAGED_PROXY",
        "role": "ACTIVE",
        "__provider": None,
    }
    assert subnet.urn in one(r, GATEWAY, "gateway").dependencies
    assert manifest(r, "Gateway", "gke-bluegreen")["spec"]["gatewayClassName"] == class_name
    internal = address_type == "INTERNAL"
    assert r.outputs["apps"]["imageview"]["address"].startswith("10." if internal else "203.")


@pytest.mark.parametrize(("stack", "serves"), [("dev", True), ("prod", True), ("imageview", False)])
def test_only_a_canary_stack_serves_the_gateway_api(
    render_stack: Renderer, stack: str, serves: bool
) -> None:
    cluster = plain(one(render_stack(stack), CLUSTER, "gke-cluster"))
    if serves:
        assert cluster["gatewayApiConfig"] == {"channel": "CHANNEL_STANDARD"}
    else:
        assert "gatewayApiConfig" not in cluster, "a stack without a canary is left as it was"
        assert not render_stack(stack).of_type(GATEWAY)

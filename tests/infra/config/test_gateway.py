"""infra/config/gateway.py: the stack's Gateway is read when an app is a canary, only then, and
only with a GatewayClass that splits by weight; the canary apps' routes can share it."""

from __future__ import annotations

from typing import Any

import pytest

from infra.config import gateway as gateway_section
from infra.settings import GatewaySettings
from tests.infra.config.cases import DELETE, base, canary_base, gke_target, refused, with_value

A = "apps.imageview"


def second_canary(raw: dict[str, Any], **canary: object) -> dict[str, Any]:
    """``raw`` plus a second canary app, ``web``, built from the one kubia folder."""
    app = {"source": "apps/kubia", "strategy": "canary", "canary": canary}
    return with_value("apps.web", app, raw)


def test_a_stack_without_a_canary_has_no_gateway() -> None:
    assert gke_target(base()).gateway is None


def test_a_canary_gets_the_global_class_and_an_address_named_after_the_cluster() -> None:
    assert gke_target(canary_base()).gateway == GatewaySettings(
        class_name="gke-l7-global-external-managed",
        address_name="test-gateway",
        proxy_subnet_cidr=None,
    )


@pytest.mark.parametrize(
    ("class_name", "is_global", "is_internal"),
    [
        ("gke-l7-global-external-managed", True, False),
        ("gke-l7-regional-external-managed", False, False),
        ("gke-l7-rilb", False, True),
    ],
)
def test_each_splitting_class_is_allowed(
    class_name: str, is_global: bool, is_internal: bool
) -> None:
    raw = with_value("gateway", {"className": class_name, "addressName": "web-ip"}, canary_base())
    gateway = gke_target(raw).gateway
    assert gateway is not None
    assert (gateway.class_name, gateway.address_name) == (class_name, "web-ip")
    assert (gateway.is_global, gateway.is_internal) == (is_global, is_internal)


def test_a_regional_class_may_have_the_program_create_its_proxy_only_subnet() -> None:
    raw = with_value(
        "gateway",
        {"className": "gke-l7-rilb", "proxySubnetCidr": "10.129.0.0/23"},
        canary_base(),
    )
    gateway = gke_target(raw).gateway
    assert gateway is not None and gateway.proxy_subnet_cidr == "10.129.0.0/23"


BAD = [
    ("gateway.className", "gke-l7-gxlb", "gateway.className", "classic Application Load Balancer"),
    ("gateway.className", "gke-l7-gxlb-mc", "gateway.className", "no weights"),
    ("gateway.className", "gke-l7-rilb-mc", "gateway.className", "multi-cluster class"),
    (
        "gateway.className",
        "gke-l7-cross-regional-internal-managed-mc",
        "gateway.className",
        "ServiceImports",
    ),
    ("gateway.className", "istio", "gateway.className", "a GKE GatewayClass that splits"),
    ("gateway.className", "gke-l7-rilb\n", "gateway.className", "control characters"),
    ("gateway.addressName", "Web_IP", "gateway.addressName", "lower-case"),
    ("gateway.addressName", "a" * 64, "gateway.addressName", "at most 63"),
    ("gateway.proxySubnetCidr", "10.129.0.0/23", "gateway.proxySubnetCidr", "regional class"),
    ("gateway.port", 8080, "gateway.port", "unknown key; allowed: className, addressName"),
    ("gateway", "gke-l7-rilb", "gateway", "expected an object"),
]


@pytest.mark.parametrize(
    ("path", "value", "key", "words"), BAD, ids=[f"{b[0]}={b[1]!r}"[:50] for b in BAD]
)
def test_a_bad_gateway_value_is_one_line_naming_the_key(
    path: str, value: object, key: str, words: str
) -> None:
    refused(with_value(path, value, canary_base()), key, words)


@pytest.mark.parametrize("cidr", ["10.129.0.0/27", "8.8.8.0/23", "10.129.0.0", "fd00::/64", "x"])
def test_a_proxy_subnet_must_be_a_private_range_of_26_or_larger(cidr: str) -> None:
    raw = with_value(
        "gateway",
        {"className": "gke-l7-regional-external-managed", "proxySubnetCidr": cidr},
        canary_base(),
    )
    refused(raw, "gateway.proxySubnetCidr", "a private IPv4 range of /26 or larger")


def test_a_gateway_without_a_canary_app_is_refused() -> None:
    raw = with_value("gateway", {"className": "gke-l7-global-external-managed"}, base())
    refused(raw, "gateway", "set only when an app uses strategy: canary")


def test_two_canary_apps_share_the_gateway_by_host_name() -> None:
    shared = second_canary(canary_base(), hostnames=["web.example.com"])
    assert gke_target(shared).gateway is not None
    refused(
        second_canary(canary_base()),
        "apps.web.canary.hostnames",
        "apps imageview and web both answer every host name",
    )
    both = with_value(f"{A}.canary.hostnames", ["web.example.com"], shared)
    refused(both, "apps.web.canary.hostnames", "a host name app imageview does not claim")


def test_the_refused_classes_and_the_allowed_ones_do_not_overlap() -> None:
    assert not set(gateway_section.REFUSED) & set(gateway_section.CLASSES)
    assert gateway_section.DEFAULT_CLASS in gateway_section.CLASSES


def test_a_canary_app_on_the_local_platform_is_one_line() -> None:
    raw = with_value("platform", "local", canary_base())
    for key in ("project", "region", "cluster"):
        raw = with_value(key, DELETE, raw)
    message = refused(raw, f"{A}.strategy", "bluegreen on the local platform")
    assert "GKE Gateway" in message
    with_gateway = with_value("gateway", {"className": "gke-l7-rilb"}, raw)
    refused(with_gateway, "gateway", "not used on the local platform")

"""The canary and GKE Gateway rules (policy/rules/gateway.py): the objects the program renders for
dev's canary pass every one; each rule fails on a broken copy with its message."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest

from infra.config import gateway as gateway_section
from policy.offline import Render, evaluate, load_render
from policy.rules import RULES
from policy.rules.gateway import (
    BACKEND_POLICY,
    GATEWAY,
    HEALTH_CHECK_POLICY,
    HTTP_ROUTE,
    SPLITTING_CLASSES,
    check_health_check_per_color,
)
from policy.rules.model import CLUSTER, Context, Resource
from tests.delivery.renders import render
from tests.policy.rules.cases import run

RULE_NAMES = [
    "canary-route-own-colors",
    "canary-route-keeps-both-colors",
    "canary-gateway-class-splits",
    "canary-health-check-per-color",
    "gke-gateway-supported",
]


@pytest.fixture(scope="module")
def dev() -> Render:
    return load_render(render("dev"))


def inputs_of(r: Render, rtype: str, name: str | None = None) -> dict[str, Any]:
    found = [
        x["inputs"]
        for x in r.resources
        if x["type"] == rtype and (name is None or x["inputs"]["metadata"]["name"] == name)
    ]
    assert len(found) == 1, (rtype, name, len(found))
    return copy.deepcopy(found[0])


def resources(r: Render) -> list[Resource]:
    return [Resource(type=x["type"], urn=x["urn"], inputs=x["inputs"]) for x in r.resources]


def test_the_rules_are_in_the_table_and_mandatory() -> None:
    table = {r.name: r for r in RULES}
    for name in RULE_NAMES:
        assert table[name].level.value == "mandatory", name


def test_the_program_renders_what_every_canary_rule_accepts(dev: Render) -> None:
    """dev's kubia is a canary: its Gateway, route, policies and cluster pass every rule (the
    pack names the color Services as the program does)."""
    assert [f for f in evaluate(dev) if f.rule in RULE_NAMES] == []
    route = inputs_of(dev, HTTP_ROUTE)
    assert {b["name"] for rule in route["spec"]["rules"] for b in rule["backendRefs"]} == {
        "kubia-blue",
        "kubia-green",
    }


def test_the_pack_and_the_program_allow_the_same_classes() -> None:
    assert tuple(SPLITTING_CLASSES) == tuple(gateway_section.CLASSES)


# --- canary-route-own-colors


@pytest.mark.parametrize(
    ("change", "words"),
    [
        (lambda b: b.update(name="node-app-blue"), "sends to Service 'node-app-blue'"),
        (lambda b: b.update(name="kubia-http"), "sends to Service 'kubia-http'"),
        (lambda b: b.update(kind="ServiceImport", group="net.gke.io"), "ServiceImport"),
        (lambda b: b.update(namespace="other"), "in namespace other"),
    ],
)
def test_a_route_may_split_only_between_its_own_colors(
    dev: Render, change: Callable[[dict[str, Any]], None], words: str
) -> None:
    route = inputs_of(dev, HTTP_ROUTE)
    change(route["spec"]["rules"][1]["backendRefs"][1])
    (msg,) = run("canary-route-own-colors", HTTP_ROUTE, route, dev.ctx)
    assert words in msg and "kubia-blue, kubia-green" in msg, msg


def test_a_route_of_an_app_that_is_no_canary_is_refused(dev: Render) -> None:
    route = inputs_of(dev, HTTP_ROUTE)
    route["metadata"]["labels"]["app"] = "node-app"
    (msg,) = run("canary-route-own-colors", HTTP_ROUTE, route, dev.ctx)
    assert "app 'node-app', which the stack config does not declare strategy: canary" in msg
    assert "(canary apps: kubia)" in msg


# --- canary-route-keeps-both-colors


def test_removing_the_idle_backend_is_refused(dev: Render) -> None:
    route = inputs_of(dev, HTTP_ROUTE)
    split = route["spec"]["rules"][1]["backendRefs"]
    assert [b["weight"] for b in split] == [100, 0]
    del split[1]
    (msg,) = run("canary-route-keeps-both-colors", HTTP_ROUTE, route, dev.ctx)
    assert "names kubia-green 0 times" in msg and "the idle one at weight 0" in msg


@pytest.mark.parametrize(
    ("weights", "words"),
    [
        ((100, None), "leaves a weight unset"),
        ((100, -1), "leaves a weight unset or not a whole number"),
        ((99.5, 0.5), "not a whole number"),
        ((0, 0), "every backend weight 0"),
    ],
)
def test_every_weight_is_stated_and_some_request_goes_somewhere(
    dev: Render, weights: tuple[Any, Any], words: str
) -> None:
    route = inputs_of(dev, HTTP_ROUTE)
    for ref, weight in zip(route["spec"]["rules"][1]["backendRefs"], weights, strict=True):
        if weight is None:
            del ref["weight"]
        else:
            ref["weight"] = weight
    (msg,) = run("canary-route-keeps-both-colors", HTTP_ROUTE, route, dev.ctx)
    assert words in msg, msg


def test_whole_weights_as_crossguard_sends_them_pass(dev: Render) -> None:
    """Numbers reach the pack as floats (protobuf Struct): 100.0 is a whole weight."""
    route = inputs_of(dev, HTTP_ROUTE)
    for ref, weight in zip(route["spec"]["rules"][1]["backendRefs"], (75.0, 25.0), strict=True):
        ref["weight"] = weight
    assert run("canary-route-keeps-both-colors", HTTP_ROUTE, route, dev.ctx) == []


def test_a_route_with_only_header_rules_splits_nothing(dev: Render) -> None:
    route = inputs_of(dev, HTTP_ROUTE)
    del route["spec"]["rules"][1]
    (msg,) = run("canary-route-keeps-both-colors", HTTP_ROUTE, route, dev.ctx)
    assert "no rule without a header match" in msg


# --- canary-gateway-class-splits


@pytest.mark.parametrize("class_name", ["gke-l7-gxlb", "gke-l7-global-external-managed-mc", None])
def test_a_gateway_of_a_class_that_does_not_split_is_refused(
    dev: Render, class_name: str | None
) -> None:
    gateway = inputs_of(dev, GATEWAY)
    assert run("canary-gateway-class-splits", GATEWAY, gateway, dev.ctx) == []
    gateway["spec"]["gatewayClassName"] = class_name
    (msg,) = run("canary-gateway-class-splits", GATEWAY, gateway, dev.ctx)
    assert f"gatewayClassName {class_name!r}" in msg and "gke-l7-rilb" in msg


def test_the_stack_config_may_not_ask_for_a_class_that_does_not_split() -> None:
    (r,) = [r for r in RULES if r.name == "canary-gateway-class-splits"]
    assert r.stack_check is not None
    bad = Context(stack="dev", config={"gateway": {"className": "gke-l7-gxlb"}})
    (msg,) = r.stack_check(bad)
    assert "gateway.className 'gke-l7-gxlb'" in msg
    assert r.stack_check(Context(stack="dev", config={"gateway": {}})) == []


# --- canary-health-check-per-color


def test_a_color_without_a_health_check_is_refused(dev: Render) -> None:
    every = resources(dev)
    assert check_health_check_per_color(every, dev.ctx) == []
    without = [
        r
        for r in every
        if not (r.type == HEALTH_CHECK_POLICY and r.inputs["metadata"]["name"] == "kubia-green")
    ]
    ((urn, msg),) = check_health_check_per_color(without, dev.ctx)
    assert urn.endswith("HTTPRoute::kubia-route")
    assert "sends to Service 'kubia-green', which no HealthCheckPolicy targets" in msg


def test_a_health_check_of_another_service_does_not_count(dev: Render) -> None:
    every = resources(dev)
    moved = []
    for r in every:
        if r.type == HEALTH_CHECK_POLICY and r.inputs["metadata"]["name"] == "kubia-blue":
            inputs = copy.deepcopy(dict(r.inputs))
            inputs["spec"]["targetRef"]["name"] = "kubia-http"
            moved.append(Resource(type=r.type, urn=r.urn, inputs=inputs))
        else:
            moved.append(r)
    ((_, msg),) = check_health_check_per_color(moved, dev.ctx)
    assert "Service 'kubia-blue'" in msg


# --- gke-gateway-supported: each of GKE's documented limits on a broken example


def test_gke_refuses_route_timeouts(dev: Render) -> None:
    route = inputs_of(dev, HTTP_ROUTE)
    assert run("gke-gateway-supported", HTTP_ROUTE, route, dev.ctx) == []
    route["spec"]["rules"][1]["timeouts"] = {"request": "60s"}
    (msg,) = run("gke-gateway-supported", HTTP_ROUTE, route, dev.ctx)
    assert "rule 1 sets timeouts" in msg and "UnsupportedValue" in msg


@pytest.mark.parametrize("rtype", [HEALTH_CHECK_POLICY, BACKEND_POLICY])
@pytest.mark.parametrize(
    ("target", "words"),
    [
        ({"group": "net.gke.io", "kind": "ServiceImport", "name": "kubia-blue"}, "must refer"),
        ({"group": "", "kind": "Service"}, "must refer to a Service"),
        ({"group": "", "kind": "Service", "name": "kubia-blue", "namespace": "x"}, "namespace"),
    ],
)
def test_gke_policies_target_a_service_of_their_namespace(
    dev: Render, rtype: str, target: dict[str, str], words: str
) -> None:
    policy = inputs_of(dev, rtype, "kubia-blue")
    assert run("gke-gateway-supported", rtype, policy, dev.ctx) == []
    policy["spec"]["targetRef"] = target
    (msg,) = run("gke-gateway-supported", rtype, policy, dev.ctx)
    assert words in msg, msg


@pytest.mark.parametrize(
    ("change", "words"),
    [
        (lambda c: c.pop("gatewayApiConfig"), "need the Gateway API enabled"),
        (lambda c: c.update(gatewayApiConfig={"channel": "CHANNEL_EXPERIMENTAL"}), "STANDARD"),
        (lambda c: c.update(networkingMode="ROUTES"), "VPC-native clusters only"),
        (
            lambda c: c.update(addonsConfig={"httpLoadBalancing": {"disabled": True}}),
            "HttpLoadBalancing add-on",
        ),
    ],
)
def test_a_canary_stack_needs_a_cluster_that_serves_gateways(
    dev: Render, change: Callable[[dict[str, Any]], None], words: str
) -> None:
    cluster = inputs_of(dev, CLUSTER)
    assert cluster["gatewayApiConfig"] == {"channel": "CHANNEL_STANDARD"}
    assert run("gke-gateway-supported", CLUSTER, cluster, dev.ctx) == []
    change(cluster)
    (msg,) = run("gke-gateway-supported", CLUSTER, cluster, dev.ctx)
    assert words in msg, msg
    no_canary = Context(stack="imageview", config={"apps": {"imageview": {}}})
    assert run("gke-gateway-supported", CLUSTER, cluster, no_canary) == []

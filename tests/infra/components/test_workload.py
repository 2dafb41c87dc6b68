"""infra/components/workload.py: blue/green Deployments, per-color snapshots of config, hardened
pods."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from infra.offline.program import Render
from tests.helpers import CONFIGMAP, SECRET, changed, container, manifest

Renderer = Callable[..., Render]


def test_a_change_for_one_color_never_rolls_the_other(render_stack: Renderer) -> None:
    before = render_stack("imageview")
    after = render_stack(
        "imageview", ['apps.imageview.colors.green.configMaps.projectid["project.id"]=next-project']
    )
    diff = changed(before, after)
    kinds = {
        (kind, name.split("-")[0] if kind == "ConfigMap" else name.rsplit("-", 1)[0])
        if kind in ("ConfigMap", "Job")
        else (kind, name)
        for kind, name in diff
    }
    assert kinds == {
        ("ConfigMap", "projectid"),
        ("Deployment", "webserver-green"),
        ("Job", "webserver-smoke-green"),
    }, diff
    assert not [n for k, n in diff if "blue" in n], f"blue must not roll: {diff}"
    green = container(after, "webserver-green")
    ref = next(e for e in green["env"] if e["name"] == "PROJECT_ID")
    name = ref["valueFrom"]["configMapKeyRef"]["name"]
    assert manifest(after, "ConfigMap", name)["data"]["project.id"] == "next-project"


@pytest.mark.parametrize("stack", ["imageview", "dev", "prod", "local"])
def test_every_pod_is_hardened_and_probed(render_stack: Renderer, stack: str) -> None:
    r = render_stack(stack)
    for d in (m for m in r.manifests() if m["kind"] == "Deployment"):
        name = d["metadata"]["name"]
        pod = d["spec"]["template"]["spec"]
        assert pod["automountServiceAccountToken"] is False, name
        assert pod["securityContext"]["runAsNonRoot"] is True, name
        assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}, name
        assert (
            pod["terminationGracePeriodSeconds"]
            > pod["containers"][0]["lifecycle"]["preStop"]["sleep"]["seconds"]
        ), name
        c = pod["containers"][0]
        sc = c["securityContext"]
        assert sc["readOnlyRootFilesystem"] is True, name
        assert sc["allowPrivilegeEscalation"] is False, name
        assert sc["capabilities"] == {"drop": ["ALL"]}, name
        assert c["readinessProbe"]["httpGet"]["path"] == "/readyz", name
        assert c["livenessProbe"]["httpGet"]["path"] == "/healthz", name
        port_names = {p["name"] for p in c["ports"]}
        assert c["readinessProbe"]["httpGet"]["port"] in port_names, name
        assert set(c["resources"]["requests"]) == {"cpu", "memory"}, name
        assert set(c["resources"]["limits"]) == {"cpu", "memory"}, name
        assert d["spec"]["strategy"]["rollingUpdate"]["maxUnavailable"] == 0, name
        if stack != "local":
            assert "@sha256:" in c["image"], f"{name} must run a digest, not a tag"
        labels = d["spec"]["template"]["metadata"]["labels"]
        assert set(labels) == {"app", "type", "color"}, name
        assert d["spec"]["selector"]["matchLabels"] == labels, name


def test_configmaps_and_secrets_are_auto_named(render_stack: Renderer) -> None:
    r = render_stack("imageview")
    for typ in (CONFIGMAP, SECRET):
        for x in r.of_type(typ):
            assert "name" not in (x.inputs.get("metadata") or {}), (
                f"{x.name}: an explicit name would stop a data change from rolling out"
            )


@pytest.mark.parametrize("stack", ["imageview", "dev", "prod", "local"])
def test_network_policy_opens_only_the_serving_port(render_stack: Renderer, stack: str) -> None:
    r = render_stack(stack)
    policies = [m for m in r.manifests() if m["kind"] == "NetworkPolicy"]
    deployments = [m for m in r.manifests() if m["kind"] == "Deployment"]
    assert len(policies) * 2 == len(deployments), "one policy per app, covering both colors"
    for policy in policies:
        spec = policy["spec"]
        assert spec["policyTypes"] == ["Ingress"]
        covered = [
            d
            for d in deployments
            if spec["podSelector"]["matchLabels"].items()
            <= d["spec"]["template"]["metadata"]["labels"].items()
        ]
        assert {d["spec"]["template"]["metadata"]["labels"]["color"] for d in covered} == {
            "blue",
            "green",
        }, policy["metadata"]["name"]
        (rule,) = spec["ingress"]
        port_names = {
            p["name"] for p in covered[0]["spec"]["template"]["spec"]["containers"][0]["ports"]
        }
        assert [p["port"] for p in rule["ports"]] == sorted(port_names)
        assert "from" not in rule, "the load balancer reaches pods from outside the cluster"


@pytest.mark.parametrize("stack", ["imageview", "dev", "prod", "local"])
def test_each_color_has_a_disruption_budget_and_spreads(render_stack: Renderer, stack: str) -> None:
    """A node drain or upgrade takes at most one pod of a color at a time, and a color's pods
    spread over nodes and zones (never kept apart from the other color: see
    infra/components/workload.py)."""
    r = render_stack(stack)
    budgets = {
        m["metadata"]["name"]: m for m in r.manifests() if m["kind"] == "PodDisruptionBudget"
    }
    for d in (m for m in r.manifests() if m["kind"] == "Deployment"):
        labels = d["spec"]["selector"]["matchLabels"]
        budget = budgets[d["metadata"]["name"]]
        assert budget["spec"] == {"maxUnavailable": 1, "selector": {"matchLabels": labels}}
        spread = d["spec"]["template"]["spec"]["topologySpreadConstraints"]
        assert {(s["topologyKey"], s["whenUnsatisfiable"], s["maxSkew"]) for s in spread} == {
            ("kubernetes.io/hostname", "ScheduleAnyway", 1),
            ("topology.kubernetes.io/zone", "ScheduleAnyway", 1),
        }
        assert all(s["labelSelector"]["matchLabels"] == labels for s in spread)
        assert "affinity" not in d["spec"]["template"]["spec"]


@pytest.mark.parametrize("stack", ["imageview", "dev", "prod", "local"])
def test_each_colors_pods_are_told_their_color(render_stack: Renderer, stack: str) -> None:
    """COLOR is what the apps answer in X-Color: requests through a canary's load balancer are
    counted by it, so it must be the Deployment's own color, and set by the program only."""
    r = render_stack(stack)
    for d in (m for m in r.manifests() if m["kind"] == "Deployment"):
        color = d["metadata"]["labels"]["color"]
        env = d["spec"]["template"]["spec"]["containers"][0]["env"]
        assert [e for e in env if e["name"] == "COLOR"] == [{"name": "COLOR", "value": color}]

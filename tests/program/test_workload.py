"""infra/workload.py and infra/service.py: blue/green Deployments, per-color snapshots, Services."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from infra.render import Render
from tests.program.helpers import CONFIGMAP, DEPLOYMENT, SECRET, SERVICE, container, manifest, one

Renderer = Callable[..., Render]


def k8s_objects(r: Render) -> dict[tuple[str, str], dict[str, Any]]:
    return {(m["kind"], m["metadata"]["name"]): m for m in r.manifests()}


def changed(a: Render, b: Render) -> set[tuple[str, str]]:
    """Kubernetes objects added, removed or different between two renders."""
    left, right = k8s_objects(a), k8s_objects(b)
    return {k for k in left.keys() | right.keys() if left.get(k) != right.get(k)}


@pytest.mark.parametrize("stack", ["imageview", "dev", "local"])
def test_flipping_active_color_changes_only_the_services(
    render_stack: Renderer, stack: str
) -> None:
    before = render_stack(stack)
    app = next(iter(before.config["gke-bluegreen:apps"]))
    after = render_stack(stack, [f"apps.{app}.activeColor=green"])
    diff = changed(before, after)
    assert diff and all(kind == "Service" for kind, _ in diff), diff
    live = manifest(after, "Service", after.outputs["apps"][app]["preview_service"])
    assert live["spec"]["selector"]["color"] == "blue", "preview now selects the old color"
    assert after.outputs["apps"][app]["active_color"] == "green"


def test_a_change_for_one_color_never_rolls_the_other(render_stack: Renderer) -> None:
    before = render_stack("imageview")
    after = render_stack(
        "imageview", ['apps.imageview.colors.green.configMaps.projectid["project.id"]=next-project']
    )
    diff = changed(before, after)
    kinds = {(kind, name.split("-")[0] if kind == "ConfigMap" else name) for kind, name in diff}
    assert kinds == {("ConfigMap", "projectid"), ("Deployment", "webserver-green")}, diff
    assert not [n for k, n in diff if "blue" in n], f"blue must not roll: {diff}"
    green = container(after, "webserver-green")
    ref = next(e for e in green["env"] if e["name"] == "PROJECT_ID")
    name = ref["valueFrom"]["configMapKeyRef"]["name"]
    assert manifest(after, "ConfigMap", name)["data"]["project.id"] == "next-project"


def test_pinning_the_live_color_keeps_its_image(render_stack: Renderer) -> None:
    pinned = "gcr.io/hello-docker/imageview@sha256:" + "a" * 64
    r = render_stack("imageview", [f"apps.imageview.colors.blue.image={pinned}"])
    assert container(r, "webserver-blue")["image"] == pinned
    assert container(r, "webserver-green")["image"].startswith("gcr.io/hello-docker/imageview@")
    images = [x.name for x in r.of_type("docker:index/image:Image")]
    assert images == ["imageview-green-image"], "the pinned color builds nothing"


def test_idle_replicas_scale_the_idle_color_only(render_stack: Renderer) -> None:
    r = render_stack("imageview", ["apps.imageview.idleReplicas=0"])
    assert manifest(r, "Deployment", "webserver-blue")["spec"]["replicas"] == 3
    assert manifest(r, "Deployment", "webserver-green")["spec"]["replicas"] == 0
    flipped = render_stack(
        "imageview", ["apps.imageview.idleReplicas=0", "apps.imageview.activeColor=green"]
    )
    assert manifest(flipped, "Deployment", "webserver-blue")["spec"]["replicas"] == 0
    assert manifest(flipped, "Deployment", "webserver-green")["spec"]["replicas"] == 3


@pytest.mark.parametrize("active", ["blue", "green"])
def test_cutover_order(render_stack: Renderer, active: str) -> None:
    """Live Service waits for the active Deployment; the idle one waits for the Service."""
    r = render_stack("imageview", [f"apps.imageview.activeColor={active}"])
    idle = "green" if active == "blue" else "blue"
    live = one(r, SERVICE, "imageview-live")
    active_d = one(r, DEPLOYMENT, f"imageview-{active}")
    idle_d = one(r, DEPLOYMENT, f"imageview-{idle}")
    assert active_d.urn in live.dependencies
    assert live.urn in idle_d.dependencies
    assert live.urn not in active_d.dependencies


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


@pytest.mark.parametrize("stack", ["imageview", "dev", "prod", "local"])
def test_services_select_exactly_one_color(render_stack: Renderer, stack: str) -> None:
    r = render_stack(stack)
    pods = [
        m["spec"]["template"]["metadata"]["labels"]
        for m in r.manifests()
        if m["kind"] == "Deployment"
    ]
    for svc in (m for m in r.manifests() if m["kind"] == "Service"):
        matching = [p for p in pods if svc["spec"]["selector"].items() <= p.items()]
        assert len({p["color"] for p in matching}) == 1, svc["metadata"]["name"]
        if svc["spec"]["type"] == "LoadBalancer":
            assert svc["spec"]["externalTrafficPolicy"] == "Cluster"


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

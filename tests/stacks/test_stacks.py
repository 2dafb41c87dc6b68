"""Whole-program runs of every stack file: the seeds reproduced, what every stack guarantees."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from infra.offline.program import Render
from infra.offline.stackfile import stack_names
from tests.helpers import (
    CLUSTER,
    DEPLOYMENT,
    IMAGE,
    NODE_POOL,
    container,
    manifest,
    one,
    plain,
)

Renderer = Callable[..., Render]


def test_the_four_stacks_exist() -> None:
    assert stack_names() == ["dev", "imageview", "local", "prod"]


def test_imageview_is_s4(render_stack: Renderer) -> None:
    r = render_stack("imageview")
    cluster = plain(one(r, CLUSTER, "gke-cluster"))
    assert (cluster["name"], cluster["location"]) == ("imageview", "asia-northeast1-a")
    assert cluster["enableLegacyAbac"] is False
    assert cluster["loggingService"] == "logging.googleapis.com/kubernetes"
    assert cluster["monitoringService"] == "monitoring.googleapis.com/kubernetes"
    pool = plain(one(r, NODE_POOL, "gke-pool"))
    assert pool["nodeCount"] == 3
    assert pool["management"] == {"autoRepair": False, "autoUpgrade": False}
    assert pool["nodeConfig"]["machineType"] == "n1-standard-1"
    assert pool["nodeConfig"]["imageType"] == "COS_CONTAINERD"

    for color in ("blue", "green"):
        d = manifest(r, "Deployment", f"webserver-{color}")
        assert d["spec"]["replicas"] == 3
        labels = d["spec"]["template"]["metadata"]["labels"]
        assert labels["type"] == "webserver" and labels["color"] == color
        c = container(r, f"webserver-{color}")
        assert c["name"] == "webserver-container"
        assert c["image"].startswith("gcr.io/hello-docker/imageview@sha256:")
        assert c["ports"] == [{"name": "http-server", "containerPort": 8080, "protocol": "TCP"}]
        env = {e["name"]: e.get("valueFrom") for e in c["env"]}
        assert env["PROJECT_ID"]["configMapKeyRef"]["key"] == "project.id"
        assert env["PROJECT_ID"]["configMapKeyRef"]["name"].startswith(f"projectid-{color}-")
        assert env["SECRET_ID"]["secretKeyRef"]["key"] == "id"
        assert env["SECRET_KEY"]["secretKeyRef"]["key"] == "key"
        assert env["SECRET_ID"]["secretKeyRef"]["name"].startswith(f"apikey-{color}-")
        cm = manifest(r, "ConfigMap", env["PROJECT_ID"]["configMapKeyRef"]["name"])
        assert cm["data"] == {"project.id": "hello-docker"}
        secret = manifest(r, "Secret", env["SECRET_ID"]["secretKeyRef"]["name"])
        assert secret["type"] == "Opaque" and sorted(secret["stringData"]) == ["id", "key"]

    blue, green = (container(r, f"webserver-{c}")["image"] for c in ("blue", "green"))
    assert blue != green, "blue and green build from their own folders"
    svc = manifest(r, "Service", "webserver")
    assert svc["spec"]["type"] == "LoadBalancer"
    assert svc["spec"]["selector"] == {"app": "imageview", "type": "webserver", "color": "blue"}
    assert svc["spec"]["ports"] == [
        {"name": "http-server", "port": 80, "targetPort": "http-server", "protocol": "TCP"}
    ]
    assert r.outputs["apps"]["imageview"]["url"].startswith("http://203.0.113.")


def test_dev_runs_the_docker_labs(render_stack: Renderer) -> None:
    r = render_stack("dev")
    pool = plain(one(r, NODE_POOL, "gke-pool"))
    assert pool["nodeConfig"]["spot"] is True
    assert r.outputs["registry_public"] is True
    kubia = manifest(r, "Service", "kubia-http")
    # S3 exposed kubia-http as a LoadBalancer on :8080; kubia is dev's canary, reached through
    # the stack's Gateway (port 80), whose route sends to each color's Service on 8080.
    assert kubia["spec"]["type"] == "ClusterIP"
    assert kubia["spec"]["ports"][0]["port"] == 8080
    route = manifest(r, "HTTPRoute", "kubia")
    split = route["spec"]["rules"][1]["backendRefs"]
    assert [(b["name"], b["port"], b["weight"]) for b in split] == [
        ("kubia-blue", 8080, 100),
        ("kubia-green", 8080, 0),
    ]
    address = one(r, "gcp:compute/globalAddress:GlobalAddress", "gateway-address").outputs
    assert r.outputs["apps"]["kubia"]["url"] == f"http://{address['address']}"
    assert manifest(r, "Deployment", "kubia-blue")["spec"]["replicas"] == 3
    web = manifest(r, "Service", "py-web-server")
    assert web["spec"]["ports"][0]["port"] == 8888
    assert container(r, "py-web-server-blue")["ports"][0]["containerPort"] == 8888
    greetings = {
        c: {e["name"]: e.get("value") for e in container(r, f"node-app-{c}")["env"]}
        for c in ("blue", "green")
    }
    assert greetings["blue"]["GREETING"] == "Hello World"
    assert greetings["green"]["GREETING"] == "Welcome to Cloud"
    assert manifest(r, "Service", "node-app")["spec"]["ports"][0]["port"] == 80


def test_prod_is_hardened(render_stack: Renderer) -> None:
    r = render_stack("prod")
    cluster = plain(one(r, CLUSTER, "gke-cluster"))
    assert cluster["location"] == "asia-northeast1", "regional"
    assert cluster["deletionProtection"] is True
    assert cluster["releaseChannel"] == {"channel": "STABLE"}
    assert cluster["privateClusterConfig"]["enablePrivateNodes"] is True
    pool = plain(one(r, NODE_POOL, "gke-pool"))
    assert pool["autoscaling"] == {"minNodeCount": 1, "maxNodeCount": 3}
    assert "nodeCount" not in pool
    assert r.outputs["registry_public"] is False
    assert not [x for x in r.resources if "public" in x.name], "prod has no public grant"
    assert {x.type for x in r.resources} >= {
        "gcp:compute/router:Router",
        "gcp:compute/routerNat:RouterNat",
    }
    assert manifest(r, "Deployment", "webserver-green")["spec"]["replicas"] == 1, "idleReplicas"


def test_local_has_no_cloud_and_no_push(render_stack: Renderer) -> None:
    r = render_stack("local")
    assert not [x for x in r.resources if x.type.startswith("gcp:")]
    images = r.of_type(IMAGE)
    assert images and all(plain(i)["skipPush"] is True for i in images)
    assert "registry" not in plain(images[0])
    assert container(r, "kubia-blue")["image"].startswith("kubia:src-")
    provider = one(r, "pulumi:providers:kubernetes", "local")
    deployments = r.of_type(DEPLOYMENT)
    assert deployments and all(
        d.provider and d.provider.startswith(provider.urn) for d in deployments
    )


@pytest.mark.parametrize("stack", stack_names())
def test_every_kubernetes_resource_uses_the_explicit_provider(
    render_stack: Renderer, stack: str
) -> None:
    r = render_stack(stack)
    for x in r.resources:
        if x.type.startswith("kubernetes:"):
            assert x.provider and "pulumi:providers:kubernetes" in x.provider, (
                f"{stack}: {x.type} {x.name} uses the ambient provider"
            )


@pytest.mark.parametrize("stack", stack_names())
def test_components_own_their_children(render_stack: Renderer, stack: str) -> None:
    r = render_stack(stack)
    for x in r.resources:
        # The local stack's provider is top-level: there is no cluster component to own it.
        if not x.type.startswith(("gke-bluegreen:", "pulumi:providers:")):
            assert x.parent and "gke-bluegreen:infra:" in x.parent, (
                f"{stack}: {x.type} {x.name} is not inside a component"
            )


@pytest.mark.parametrize("stack", stack_names())
def test_preview_mode_registers_the_same_resources(render_stack: Renderer, stack: str) -> None:
    """In preview, outputs are unknown and apply callbacks are skipped: nothing may depend on
    an apply to be registered."""
    full = render_stack(stack)
    preview = render_stack(stack, preview=True)
    assert sorted((x.type, x.name) for x in preview.resources) == sorted(
        (x.type, x.name) for x in full.resources
    )

"""The program's Kubernetes objects on a real API server: every object of every stack's offline
render (the real program under Pulumi mocks, infra/offline) is accepted by kube-apiserver 1.36
with strict field validation (decoding, defaulting, admission, CEL), which tests/stacks checks
offline against OpenAPI schemas only, a canary's Gateway and HTTPRoute included (GKE's policy
kinds are not installed: no schema of theirs could be vendored); and the local stack's objects,
applied for real, become what ``pulumi up`` waits for: every Deployment Available, every smoke
Job Complete, through the controllers, the scheduler and kwok.

What this leaves to the engine: the objects are applied as rendered, not by pulumi-kubernetes,
so its own additions (field manager, annotations, await logic) are exercised in test_engine.py
and test_program.py, not here."""

from __future__ import annotations

import copy
import time
import uuid
from collections.abc import Callable
from typing import Any

import pytest

from infra.offline.program import Render
from infra.offline.stackfile import stack_names
from tests.real.cluster import ControlPlane

pytestmark = pytest.mark.real

Renderer = Callable[..., Render]


def new_namespace(cluster: ControlPlane, prefix: str) -> str:
    name = f"{prefix}-{uuid.uuid4().hex[:6]}"
    body = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}
    response = cluster.create("/api/v1/namespaces", body)
    assert response.status_code == 201, response.text
    return name


def refused(cluster: ControlPlane, objects: list[dict[str, Any]], namespace: str, dry: bool) -> str:
    """The API server's refusals, one line per object; warnings count as refusals too (strict
    validation turns unknown fields into errors, but deprecations only warn)."""
    problems = []
    for obj in objects:
        response = cluster.apply(obj, namespace, dry_run=dry)
        where = f"{obj['kind']}/{obj['metadata']['name']}"
        if response.status_code >= 300:
            problems.append(f"{where}: {response.status_code} {response.json().get('message')}")
        elif response.headers.get("Warning"):
            problems.append(f"{where}: warning {response.headers['Warning']}")
    return "\n".join(problems)


#: GKE's policy kinds: their CRDs are not installed here (no published schema could be vendored;
#: tests/stacks/test_schemas.py NO_SCHEMA), so the API server would not know them.
NOT_INSTALLED = {"networking.gke.io/v1"}


def served(objects: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The objects whose kinds this API server serves (everything but GKE's policies)."""
    return [o for o in objects if o["apiVersion"] not in NOT_INSTALLED]


@pytest.mark.parametrize("stack", stack_names())
def test_every_rendered_object_is_accepted_strictly(
    cluster: ControlPlane, render_stack: Renderer, stack: str
) -> None:
    objects = served(render_stack(stack).manifests())
    assert objects
    namespace = new_namespace(cluster, f"dry-{stack}")
    problems = refused(cluster, objects, namespace, dry=True)
    assert not problems, f"the API server refuses objects of {stack}:\n{problems}"


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_a_canarys_gateway_and_route_pass_the_crds_cel_rules(
    cluster: ControlPlane, render_stack: Renderer, stack: str
) -> None:
    """The Gateway and HTTPRoute as rendered, created for real (not a dry run) against the
    vendored standard-channel CRDs: the API server evaluates their CEL rules, which
    tests/stacks cannot. A route changed the way a shift changes it is accepted too; one whose
    Service backend lost its port is refused by a CEL rule."""
    objects = render_stack(stack).manifests()
    gateway_api = [o for o in objects if o["apiVersion"].startswith("gateway.networking.k8s.io/")]
    assert sorted(o["kind"] for o in gateway_api) == ["Gateway", "HTTPRoute"]
    namespace = new_namespace(cluster, f"gw-{stack}")
    assert not refused(cluster, gateway_api, namespace, dry=False)
    route = next(o for o in gateway_api if o["kind"] == "HTTPRoute")
    stored = cluster.get(cluster.path(route, namespace))
    assert stored["spec"]["rules"] == route["spec"]["rules"], "stored as rendered, no defaults"
    shifted = copy.deepcopy(route)
    for ref, weight in zip(shifted["spec"]["rules"][1]["backendRefs"], (75, 25), strict=True):
        ref["weight"] = weight
    assert not refused(cluster, [shifted], namespace, dry=False)
    assert cluster.get(cluster.path(route, namespace))["metadata"]["generation"] == 2
    portless = copy.deepcopy(route)
    del portless["spec"]["rules"][1]["backendRefs"][0]["port"]
    response = cluster.apply(portless, namespace, dry_run=True)
    assert response.status_code == 422, response.text
    assert "Must have port for Service reference" in response.json()["message"]


def test_the_local_stack_rolls_out_on_the_control_plane(
    cluster: ControlPlane, render_stack: Renderer
) -> None:
    objects = served(render_stack("local").manifests())
    namespace = new_namespace(cluster, "local")
    problems = refused(cluster, objects, namespace, dry=False)
    assert not problems, problems
    deployments = [o["metadata"]["name"] for o in objects if o["kind"] == "Deployment"]
    jobs = [o["metadata"]["name"] for o in objects if o["kind"] == "Job"]
    assert deployments and jobs

    def pending() -> list[str]:
        left = []
        for name in deployments:
            d = cluster.get(f"/apis/apps/v1/namespaces/{namespace}/deployments/{name}")
            want = d["spec"].get("replicas", 1)
            status = d.get("status", {})
            if status.get("readyReplicas", 0) != want or status.get("updatedReplicas", 0) != want:
                left.append(f"Deployment {name}: {status.get('readyReplicas', 0)}/{want} ready")
        for name in jobs:
            j = cluster.get(f"/apis/batch/v1/namespaces/{namespace}/jobs/{name}")
            kinds = {c["type"] for c in j.get("status", {}).get("conditions") or []}
            assert "Failed" not in kinds, f"Job {name} failed: {j['status']}"
            if "Complete" not in kinds:
                left.append(f"Job {name}: not complete")
        return left

    deadline = time.monotonic() + 90
    while left := pending():
        assert time.monotonic() < deadline, "still waiting after 90 s:\n" + "\n".join(left)
        time.sleep(0.5)

    # Each Service's ready endpoints become exactly the running pods it selects (the endpoint
    # controller follows pod readiness a moment later).
    def mismatched() -> list[str]:
        wrong = []
        for svc in (o for o in objects if o["kind"] == "Service"):
            name = svc["metadata"]["name"]
            selector = ",".join(f"{k}={v}" for k, v in svc["spec"]["selector"].items())
            pods = cluster.get(
                f"/api/v1/namespaces/{namespace}/pods", params={"labelSelector": selector}
            )["items"]
            running = {p["status"]["podIP"] for p in pods if p["status"].get("phase") == "Running"}
            ready = cluster.ready_endpoints(namespace, name)
            if not running or ready != running:
                wrong.append(f"Service {name}: endpoints {sorted(ready)}, pods {sorted(running)}")
        return wrong

    deadline = time.monotonic() + 30
    while wrong := mismatched():
        assert time.monotonic() < deadline, "\n".join(wrong)
        time.sleep(0.5)


def test_an_app_moving_to_the_gateway_keeps_its_live_service(
    cluster: ControlPlane, render_stack: Renderer
) -> None:
    """dev's kubia was reached through its LoadBalancer Service (kubia-http); as a canary that
    Service is ClusterIP. Server-side apply of the new object over the old one changes the type in
    place (the API server drops the node port and the external traffic policy the old type had).
    pulumi-kubernetes replaces a Service only for a change of ``spec.clusterIP``
    (pulumi/pulumi-kubernetes provider/pkg/provider/diff.go at 9497796), which the program never
    sets: the move is an update, and in-cluster clients keep the Service's address."""
    new = next(
        o
        for o in render_stack("dev").manifests()
        if o["kind"] == "Service" and o["metadata"]["name"] == "kubia-http"
    )
    assert new["spec"]["type"] == "ClusterIP"
    old = copy.deepcopy(new)
    old["spec"].update(type="LoadBalancer", externalTrafficPolicy="Cluster")
    namespace = new_namespace(cluster, "moved")
    assert not refused(cluster, [old], namespace, dry=False)
    before = cluster.get(cluster.path(old, namespace))
    assert before["spec"]["ports"][0].get("nodePort")
    assert not refused(cluster, [new], namespace, dry=False)
    after = cluster.get(cluster.path(new, namespace))
    assert after["metadata"]["uid"] == before["metadata"]["uid"]
    assert after["spec"]["type"] == "ClusterIP"
    assert "nodePort" not in after["spec"]["ports"][0]
    assert "externalTrafficPolicy" not in after["spec"]
    assert after["spec"]["clusterIP"] == before["spec"]["clusterIP"]

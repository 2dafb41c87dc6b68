"""The loopback control plane does what the real tier relies on: the API server answers with the
pinned version; Deployments get Ready pods and endpoints through the controllers, the scheduler
and kwok; Jobs complete, and fail when marked broken; the Gateway API CRDs make the API server
itself refuse invalid HTTPRoutes; and stopping it leaves no process, port or folder behind."""

from __future__ import annotations

import os
import socket
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.prerequisites import unavailable
from tests.real.cluster import FAIL_MARKER, ControlPlane, Unavailable, binaries

pytestmark = pytest.mark.real

KUBERNETES_VERSION = "v1.36.3"


def wait_for(probe: Callable[[], Any], what: str, timeout: float = 60.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(0.25)


@pytest.fixture
def namespace(cluster: ControlPlane) -> Iterator[str]:
    name = f"t-{uuid.uuid4().hex[:8]}"
    response = cluster.create(
        "/api/v1/namespaces", {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}
    )
    assert response.status_code == 201, response.text
    wait_for(
        lambda: cluster.request("GET", f"/api/v1/namespaces/{name}/serviceaccounts/default").ok,
        f"the default service account of {name}",
    )
    yield name
    cluster.request("DELETE", f"/api/v1/namespaces/{name}")


def container(name: str, env: dict[str, str] | None = None) -> dict[str, Any]:
    spec: dict[str, Any] = {"name": name, "image": "registry.invalid/never-pulled:1"}
    if env:
        spec["env"] = [{"name": k, "value": v} for k, v in env.items()]
    return spec


def deployment(name: str, replicas: int, env: dict[str, str] | None = None) -> dict[str, Any]:
    labels = {"app": name}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": labels},
            "template": {
                "metadata": {"labels": labels},
                "spec": {"containers": [container("app", env)]},
            },
        },
    }


def job(name: str, env: dict[str, str] | None = None) -> dict[str, Any]:
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": name},
        "spec": {
            "backoffLimit": 0,
            "template": {
                "spec": {"restartPolicy": "Never", "containers": [container("smoke", env)]}
            },
        },
    }


def conditions(obj: dict[str, Any]) -> dict[str, str]:
    return {c["type"]: c["status"] for c in obj.get("status", {}).get("conditions") or []}


def job_with(cluster: ControlPlane, path: str, condition: str) -> Callable[[], Any]:
    """A probe: the Job at ``path`` once it has ``condition``, else None."""

    def probe() -> dict[str, Any] | None:
        found: dict[str, Any] = cluster.get(path)
        return found if conditions(found).get(condition) else None

    return probe


def test_api_server_answers_with_the_pinned_version(cluster: ControlPlane) -> None:
    version = cluster.get("/version")
    assert version["gitVersion"] == KUBERNETES_VERSION
    assert cluster.request("GET", "/readyz").text == "ok"
    names = {ns["metadata"]["name"] for ns in cluster.get("/api/v1/namespaces")["items"]}
    assert {"default", "kube-system"} <= names


def test_an_anonymous_client_is_refused(cluster: ControlPlane) -> None:
    import requests

    assert cluster.pki is not None
    response = requests.get(
        f"{cluster.server}/api/v1/namespaces", verify=str(cluster.pki.ca_cert), timeout=10
    )
    assert response.status_code in (401, 403)


def test_nodes_are_kwok_nodes_and_ready(cluster: ControlPlane) -> None:
    nodes = cluster.get("/api/v1/nodes")["items"]
    assert len(nodes) == 3
    for node in nodes:
        assert conditions(node)["Ready"] == "True"
        assert node["status"]["nodeInfo"]["kubeletVersion"].startswith("kwok-")


def test_a_deployment_gets_ready_pods_and_endpoints(cluster: ControlPlane, namespace: str) -> None:
    base = f"/apis/apps/v1/namespaces/{namespace}/deployments"
    response = cluster.create(base, deployment("web", 2), fieldValidation="Strict")
    assert response.status_code == 201, response.text
    service = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "web"},
        "spec": {"selector": {"app": "web"}, "ports": [{"port": 80, "targetPort": 8080}]},
    }
    assert cluster.create(f"/api/v1/namespaces/{namespace}/services", service).status_code == 201

    def rolled_out() -> dict[str, Any] | None:
        d = cluster.get(f"{base}/web")
        status = d.get("status", {})
        done = status.get("readyReplicas") == 2 and status.get("updatedReplicas") == 2
        return d if done and conditions(d).get("Available") == "True" else None

    wait_for(rolled_out, "Deployment web to have 2 ready replicas")
    sets = cluster.get(f"/apis/apps/v1/namespaces/{namespace}/replicasets")["items"]
    assert [rs["metadata"]["ownerReferences"][0]["name"] for rs in sets] == ["web"]
    pods = cluster.get(f"/api/v1/namespaces/{namespace}/pods")["items"]
    assert len(pods) == 2
    for pod in pods:
        assert pod["spec"]["nodeName"].startswith("kwok-node-")
        assert pod["status"]["phase"] == "Running"
        assert conditions(pod)["Ready"] == "True"
        assert pod["status"]["podIP"]

    # The endpoint controller follows pod readiness a moment later.
    pod_ips = {p["status"]["podIP"] for p in pods}
    wait_for(
        lambda: cluster.ready_endpoints(namespace, "web") == pod_ips,
        f"Service web's ready endpoints to be its pods {sorted(pod_ips)}",
    )


def test_a_broken_deployment_pod_runs_but_is_never_ready(
    cluster: ControlPlane, namespace: str
) -> None:
    base = f"/apis/apps/v1/namespaces/{namespace}/deployments"
    body = deployment("broken", 1, env={"GREETING": FAIL_MARKER})
    assert cluster.create(base, body).status_code == 201

    def running() -> list[Any]:
        pods = cluster.get(f"/api/v1/namespaces/{namespace}/pods")["items"]
        return [p for p in pods if p.get("status", {}).get("phase") == "Running"]

    pod = wait_for(running, "the broken pod to run")[0]
    assert conditions(pod)["Ready"] == "False"
    time.sleep(2)
    status = cluster.get(f"{base}/broken")["status"]
    assert status.get("readyReplicas", 0) == 0


def test_a_job_completes(cluster: ControlPlane, namespace: str) -> None:
    base = f"/apis/batch/v1/namespaces/{namespace}/jobs"
    assert cluster.create(base, job("smoke")).status_code == 201
    done = wait_for(job_with(cluster, f"{base}/smoke", "Complete"), "Job smoke to complete")
    assert conditions(done)["Complete"] == "True"
    assert done["status"]["succeeded"] == 1
    assert "Failed" not in conditions(done)


def test_a_job_marked_broken_fails(cluster: ControlPlane, namespace: str) -> None:
    base = f"/apis/batch/v1/namespaces/{namespace}/jobs"
    body = job("smoke-broken", env={"SMOKE_TEXT": FAIL_MARKER})
    assert cluster.create(base, body).status_code == 201
    failed = wait_for(
        job_with(cluster, f"{base}/smoke-broken", "Failed"), "Job smoke-broken to fail"
    )
    assert conditions(failed)["Failed"] == "True"
    assert failed["status"].get("succeeded", 0) == 0
    pods = cluster.get(
        f"/api/v1/namespaces/{namespace}/pods", params={"labelSelector": "job-name=smoke-broken"}
    )["items"]
    assert [p["status"]["phase"] for p in pods] == ["Failed"]
    terminated = pods[0]["status"]["containerStatuses"][0]["state"]["terminated"]
    assert terminated["exitCode"] == 1


def httproute(path: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {
        "apiVersion": "gateway.networking.k8s.io/v1",
        "kind": "HTTPRoute",
        "metadata": {"name": f"route-{uuid.uuid4().hex[:6]}"},
        "spec": {
            "parentRefs": [{"name": "gateway"}],
            "rules": [
                {
                    "matches": [{"path": path}],
                    "backendRefs": [{"name": "web", "port": 80}],
                    **extra,
                }
            ],
        },
    }


def test_the_api_server_validates_httproutes(cluster: ControlPlane, namespace: str) -> None:
    base = f"/apis/gateway.networking.k8s.io/v1/namespaces/{namespace}/httproutes"
    good = cluster.create(
        base, httproute({"type": "PathPrefix", "value": "/"}), fieldValidation="Strict"
    )
    assert good.status_code == 201, good.text

    # An unknown field: refused under strict field validation, only warned about by default.
    typo = httproute({"type": "PathPrefix", "value": "/"}, weightPercent=10)
    unknown = cluster.create(base, typo, fieldValidation="Strict")
    assert unknown.status_code == 400, unknown.text
    message = unknown.json()["message"]
    assert 'strict decoding error: unknown field "spec.rules[0].weightPercent"' in message
    warned = cluster.create(base, typo)
    assert warned.status_code == 201, warned.text
    assert 'unknown field \\"spec.rules[0].weightPercent' in warned.headers.get("Warning", "")

    # A CEL rule of the CRD (x-kubernetes-validations): a PathPrefix value is an absolute path.
    relative = cluster.create(
        base, httproute({"type": "PathPrefix", "value": "api"}), fieldValidation="Strict"
    )
    assert relative.status_code == 422, relative.text
    assert "must be an absolute path" in relative.json()["message"]


def test_stopping_leaves_no_process_port_or_folder() -> None:
    try:
        binaries()
    except Unavailable as exc:
        unavailable(str(exc))
    plane = ControlPlane(nodes=1).start()
    pids, workdir = plane.pids(), plane.workdir
    port = int(plane.server.rsplit(":", 1)[1])
    assert len(pids) == 5
    assert all(_alive(pid) for pid in pids)
    plane.stop()
    assert [pid for pid in pids if _alive(pid)] == []
    assert not workdir.exists()
    with socket.socket() as s:
        assert s.connect_ex(("127.0.0.1", port)) != 0


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True

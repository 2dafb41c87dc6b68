"""infra/e2e/cluster.py: what kubectl says, read through stand-in kubectl executables that answer
well, fail, print garbage, hang or are missing; each problem is one ClusterError line."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

import pytest

from infra.e2e.cluster import ClusterError, Kubectl, find_kubectl


def fake_kubectl(folder: Path, script: str) -> str:
    """An executable that runs the Python ``script`` (``argv`` holds kubectl's arguments)."""
    body = folder / "kubectl.py"
    body.write_text("import json, sys, time\nargv = sys.argv[1:]\n" + script)
    path = folder / "kubectl"
    path.write_text(f'#!/bin/sh\nexec "{sys.executable}" "{body}" "$@"\n')
    path.chmod(0o755)
    return str(path)


def answering(folder: Path, data: dict[str, Any]) -> Kubectl:
    return Kubectl(fake_kubectl(folder, f"print(json.dumps({data!r}))\n"))


def test_the_live_service_s_color(tmp_path: Path) -> None:
    kubectl = answering(tmp_path, {"spec": {"selector": {"app": "kubia", "color": "green"}}})
    assert kubectl.served("kubia-http") == "green"


def test_context_and_namespace_reach_kubectl(tmp_path: Path) -> None:
    seen = tmp_path / "argv.json"
    script = (
        f"open({str(seen)!r}, 'w').write(json.dumps(argv))\n"
        "print(json.dumps({'spec': {'selector': {'color': 'blue'}}}))\n"
    )
    kubectl = Kubectl(fake_kubectl(tmp_path, script), context="minikube", namespace="apps")
    kubectl.served("kubia-http")
    assert json.loads(seen.read_text()) == [
        "--context", "minikube", "--namespace", "apps",
        "get", "service", "kubia-http", "-o", "json",
    ]  # fmt: skip


@pytest.mark.parametrize(
    "selector", [{"app": "kubia"}, {"app": "kubia", "color": "red"}, None, "color=blue"]
)
def test_a_service_that_selects_no_color_is_refused(tmp_path: Path, selector: object) -> None:
    kubectl = answering(tmp_path, {"spec": {"selector": selector}})
    with pytest.raises(ClusterError, match=r"Service kubia selects no color .* --service"):
        kubectl.served("kubia")


def test_kubectl_s_own_error_is_its_last_line(tmp_path: Path) -> None:
    script = (
        "print('W0101 a warning', file=sys.stderr)\n"
        "print('Error from server (NotFound): services \"x\" not found', file=sys.stderr)\n"
        "sys.exit(1)\n"
    )
    with pytest.raises(ClusterError) as caught:
        Kubectl(fake_kubectl(tmp_path, script)).served("x")
    assert str(caught.value) == (
        'kubectl get service x failed: Error from server (NotFound): services "x" not found'
    )


@pytest.mark.parametrize(
    ("output", "says"),
    [("not json", "did not print JSON"), ("[1, 2]", "did not print a JSON object")],
)
def test_garbage_is_refused(tmp_path: Path, output: str, says: str) -> None:
    kubectl = Kubectl(fake_kubectl(tmp_path, f"print({output!r})\n"))
    with pytest.raises(ClusterError, match=re.escape(f"kubectl get service x {says}")):
        kubectl.served("x")


def test_a_hung_kubectl_is_stopped(tmp_path: Path) -> None:
    kubectl = Kubectl(fake_kubectl(tmp_path, "time.sleep(30)\n"), timeout_s=0.5)
    with pytest.raises(
        ClusterError, match=re.escape("kubectl get service x did not answer within 0.5 s")
    ):
        kubectl.served("x")


def test_a_missing_kubectl_is_one_error(tmp_path: Path) -> None:
    with pytest.raises(ClusterError, match=r"cannot run .*nowhere"):
        Kubectl(str(tmp_path / "nowhere")).served("x")


def deployments(*templates: object) -> dict[str, Any]:
    return {"items": [{"metadata": {"generation": 1}, "spec": {"template": t}} for t in templates]}


def test_a_color_s_pod_template(tmp_path: Path) -> None:
    template = {"spec": {"containers": [{"image": "kubia:src-1", "env": []}]}}
    kubectl = answering(tmp_path, deployments(template))
    assert json.loads(kubectl.pod_template("kubia", "blue")) == template


@pytest.mark.parametrize(
    ("data", "says"),
    [
        (deployments(), "0 Deployments carry the labels app=kubia,color=blue; expected one"),
        (deployments({}, {}), "2 Deployments carry the labels"),
        (deployments(None), "the blue Deployment of kubia has no pod template"),
        ({"kind": "List"}, "kubectl get deployments printed no item list"),
    ],
)
def test_a_pod_template_kubectl_cannot_tell_is_refused(
    tmp_path: Path, data: dict[str, Any], says: str
) -> None:
    with pytest.raises(ClusterError, match=re.escape(says)):
        answering(tmp_path, data).pod_template("kubia", "blue")


@pytest.mark.parametrize(
    ("status", "failed"),
    [
        ({"succeeded": 1}, False),
        ({"active": 1}, False),
        ({"failed": 1}, True),
        ({"conditions": [{"type": "Failed", "status": "True"}]}, True),
        ({"conditions": [{"type": "Complete", "status": "True"}]}, False),
        ({"conditions": [{"type": "Failed", "status": "False"}]}, False),
    ],
)
def test_a_failed_smoke_job_is_seen(tmp_path: Path, status: dict[str, Any], failed: bool) -> None:
    jobs = [
        {"metadata": {"name": "kubia-smoke-blue-1"}, "status": {"succeeded": 1}},
        {"metadata": {"name": "kubia-smoke-blue-2"}, "status": status},
    ]
    found = answering(tmp_path, {"items": jobs}).failed_smoke_jobs("kubia", "blue")
    assert found == ({"kubia-smoke-blue-2"} if failed else set())


def test_no_smoke_job_is_no_failure(tmp_path: Path) -> None:
    assert answering(tmp_path, {"items": []}).failed_smoke_jobs("kubia", "blue") == set()


def test_kubectl_is_found_as_kubectl_says(tmp_path: Path) -> None:
    mine = fake_kubectl(tmp_path, "")
    assert find_kubectl({"KUBECTL": mine, "PATH": ""}) == mine
    assert find_kubectl({"PATH": str(tmp_path)}) == mine
    assert find_kubectl({"KUBECTL": str(tmp_path / "nowhere"), "PATH": str(tmp_path)}) is None

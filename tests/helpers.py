"""Small lookups over a render, with messages that say which resource broke which rule."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from infra.offline.mocks import Registered, unwrap
from infra.offline.program import Render

DEPLOYMENT = "kubernetes:apps/v1:Deployment"
SERVICE = "kubernetes:core/v1:Service"
CONFIGMAP = "kubernetes:core/v1:ConfigMap"
SECRET = "kubernetes:core/v1:Secret"
CLUSTER = "gcp:container/cluster:Cluster"
NODE_POOL = "gcp:container/nodePool:NodePool"
IMAGE = "docker:index/image:Image"

#: A stub server's answer (tests/conftest.py http_stub) to (path, nth request): status, body.
Answer = Callable[[str, int], tuple[int, str]]


def one(render: Render, typ: str, name: str) -> Registered:
    found = [r for r in render.of_type(typ) if r.name == name]
    names = [r.name for r in render.of_type(typ)]
    assert len(found) == 1, f"expected one {typ} named {name}; registered: {names}"
    return found[0]


def manifest(render: Render, kind: str, name: str) -> dict[str, Any]:
    found = [m for m in render.manifests() if m["kind"] == kind and m["metadata"]["name"] == name]
    names = [m["metadata"]["name"] for m in render.manifests() if m["kind"] == kind]
    assert len(found) == 1, f"expected one {kind} {name}; rendered: {names}"
    return found[0]


def container(render: Render, deployment: str) -> dict[str, Any]:
    spec = manifest(render, "Deployment", deployment)["spec"]["template"]["spec"]
    assert len(spec["containers"]) == 1, f"{deployment}: expected one container"
    return dict(spec["containers"][0])


def plain(r: Registered) -> dict[str, Any]:
    """Inputs with secrets unwrapped (for assertions only)."""
    return dict(unwrap(r.inputs))


def k8s_objects(r: Render) -> dict[tuple[str, str], dict[str, Any]]:
    return {(m["kind"], m["metadata"]["name"]): m for m in r.manifests()}


def changed(a: Render, b: Render) -> set[tuple[str, str]]:
    """Kubernetes objects added, removed or different between two renders."""
    left, right = k8s_objects(a), k8s_objects(b)
    return {k for k in left.keys() | right.keys() if left.get(k) != right.get(k)}

"""Small lookups over a render, with messages that say which resource broke which rule."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
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


#: Runs ``python -m MODULE ARGS`` with ``infra.paths.PROJECT_FILE`` set to PROJECT first: a tool
#: as a user runs it, on a copy of the project whose files a test may break.
_WITH_PROJECT = """\
import runpy, sys
from pathlib import Path
import infra.paths
infra.paths.PROJECT_FILE = Path(sys.argv[1])
sys.argv = sys.argv[2:]
runpy.run_module(sys.argv[0], run_name="__main__", alter_sys=True)
"""


def tool_command(project_file: Path, module: str, *args: str) -> list[str]:
    """The command line of ``python -m module args`` on the project of ``project_file`` (run it
    from the repository root)."""
    return [sys.executable, "-c", _WITH_PROJECT, str(project_file), module, *args]

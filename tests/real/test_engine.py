"""The real engine and the real Kubernetes provider on the loopback control plane, over the objects
the program registers for the local stack (its offline render, driven by a Pulumi YAML program:
tests/real/yaml_program.py). Upstream's Python language host cannot be built from published
modules (tools/README.md); our own host runs the Python program itself in test_program.py, but
with the committed config that program builds images, which needs the Docker provider (not
buildable). The YAML program deploys the same objects with the images as rendered, so the smoke
Jobs run here.

``pulumi up`` creates every object and its awaits finish (Deployments ready, smoke Jobs
complete); ``pulumi up`` again has nothing to do; ``pulumi refresh`` finds no drift; the state
holds what the API server holds; ``pulumi destroy`` removes it all. A smoke Job whose pod fails
makes ``pulumi up`` fail, naming the Job.

Not proven here: the Python program's own resource graph (its dependencies, components, outputs,
URNs, dynamic resources: test_program.py) and the release tool (test_release.py); images, which
need the Docker provider. The Kubernetes provider is 4.25.0, not the 4.34.2 of requirements.txt."""

from __future__ import annotations

import copy
import json
import re
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from infra.offline.program import Render
from tests.real import yaml_program
from tests.real.cli import Cli, engine_cli
from tests.real.cluster import FAIL_MARKER, ControlPlane

pytestmark = pytest.mark.real

Renderer = Callable[..., Render]
NEEDED = ("pulumi", "pulumi-language-yaml", "pulumi-resource-kubernetes")


@pytest.fixture
def engine(cluster: ControlPlane, tmp_path: Path) -> Cli:
    return engine_cli(
        tmp_path / "cli", cluster.kubeconfig, NEEDED, "scripts/install.d/50-go-tools.sh"
    )


def stack(engine: Cli, folder: Path, objects: list[dict[str, Any]]) -> tuple[Path, str]:
    """A project deploying ``objects`` into a fresh namespace, its stack initialised."""
    project = yaml_program.write(folder, "real-local", objects)
    namespace = f"engine-{uuid.uuid4().hex[:6]}"
    assert engine.run(project, "stack", "init", "s").returncode == 0
    assert engine.run(project, "config", "set", "namespace", namespace).returncode == 0
    return project, namespace


def ok(engine: Cli, project: Path, *args: str) -> str:
    done = engine.run(project, *args, "--stack", "s", timeout=600)
    assert done.returncode == 0, f"pulumi {' '.join(args)}:\n{done.stdout}"
    return done.stdout


def test_the_local_stack_deploys_and_converges_through_the_engine(
    engine: Cli, cluster: ControlPlane, render_stack: Renderer, tmp_path: Path
) -> None:
    objects = render_stack("local").manifests()
    project, namespace = stack(engine, tmp_path / "project", objects)

    up = ok(engine, project, "up", "--yes", "--skip-preview")
    # The stack, the provider and the namespace, then every object.
    assert re.search(rf"\+ {len(objects) + 3} created", up), up
    for obj in objects:
        kind, name = obj["kind"], obj["metadata"]["name"]
        live = cluster.get(cluster.path(obj, namespace))
        if kind == "Deployment":
            want = obj["spec"]["replicas"]
            assert live["status"].get("readyReplicas", 0) == want, f"{name}: {live['status']}"
        if kind == "Job":
            complete = [c for c in live["status"]["conditions"] if c["type"] == "Complete"]
            assert complete and complete[0]["status"] == "True", f"{name}: {live['status']}"

    ok(engine, project, "up", "--yes", "--skip-preview", "--expect-no-changes")
    ok(engine, project, "refresh", "--yes", "--skip-preview", "--expect-no-changes")
    state = json.loads(ok(engine, project, "stack", "export"))
    in_state = {}
    for r in state["deployment"]["resources"]:
        if r["type"].startswith("kubernetes:") and not r["type"].endswith(":Namespace"):
            meta = r["outputs"]["metadata"]
            in_state[(r["type"].rsplit(":", 1)[1], meta["name"])] = meta["uid"]
    live = {
        (o["kind"], o["metadata"]["name"]): cluster.get(cluster.path(o, namespace))["metadata"]
        for o in objects
    }
    assert in_state == {key: meta["uid"] for key, meta in live.items()}

    ok(engine, project, "destroy", "--yes", "--skip-preview")
    for obj in objects:
        assert cluster.request("GET", cluster.path(obj, namespace)).status_code == 404


def test_a_failing_smoke_job_fails_up(engine: Cli, render_stack: Renderer, tmp_path: Path) -> None:
    objects = copy.deepcopy(render_stack("local").manifests())
    job = next(o for o in objects if o["kind"] == "Job")
    for container in job["spec"]["template"]["spec"]["containers"]:
        container["env"] = [*container.get("env", []), {"name": "MARK", "value": FAIL_MARKER}]
    project, _ = stack(engine, tmp_path / "project", objects)

    up = engine.run(project, "up", "--yes", "--skip-preview", "--stack", "s", timeout=600)
    assert up.returncode != 0, up.stdout
    failed = yaml_program.resource_name(job)
    assert f"kubernetes:batch/v1:Job ({failed}):" in up.stdout, up.stdout
    assert "BackoffLimitExceeded" in up.stdout, up.stdout
    # Every other object was created; only the broken Job errored.
    assert re.search(rf"\+ {len(objects) + 2} created", up.stdout), up.stdout

"""The real CLI runs the real program (``__main__.py``, the local stack) through our own Python
language host (tools/python-host, wrappers written by scripts/install.d/55-python-host.sh), in a
scratch copy of the project (``pulumi stack init`` writes into the stack file it finds), with the
loopback cluster's kubeconfig as the local platform's (the default context: ``kubeContext`` is
unset in stacks/Pulumi.local.yaml).

What runs: the host starts, the engine asks it for the required packages and runs the program.
The committed local stack builds its images, so it registers the Docker provider, and preview
stops there: the Docker provider cannot be built (tools/README.md). With every color and every
smoke client pinned (``smoke.image``) the stack builds nothing and registers no Docker provider
(infra/components/platform.py), and preview, up (its smoke Jobs included), up again, refresh,
stack output and destroy run for real."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from infra.offline.program import Render
from infra.paths import ROOT
from tests.real.agree import disagreements
from tests.real.cli import NO_LANGUAGE_HOST, Cli
from tests.real.project import configure, local_stack, pinned

pytestmark = pytest.mark.real

#: What the engine says when the program registers the Docker provider (CLI 3.274.1).
NO_DOCKER = (
    "pulumi:providers:docker (docker):\n    error: no resource plugin 'pulumi-resource-docker'"
    " found in the workspace at version v5.2.0 or on your $PATH"
)


def test_the_host_runs_the_program_until_the_docker_provider(engine: Cli, tmp_path: Path) -> None:
    project = local_stack(engine, tmp_path / "project")
    preview = engine.run(project, "preview", "--stack", "local", timeout=600)
    out = preview.stdout
    assert NO_LANGUAGE_HOST not in out, out
    # The program ran in our host: its stack and its Docker provider were registered, and the
    # engine refused the provider, not the program.
    assert "pulumi:pulumi:Stack gke-bluegreen-local" in out, out
    assert NO_DOCKER in out, out
    assert preview.returncode != 0


#: The local stack with every color and every smoke client on a pinned image: it builds nothing,
#: so it registers no Docker provider, and it runs its smoke Jobs.
PINNED = pinned(smoke=True)


def test_the_local_stack_deploys_for_real(
    engine: Cli, render_stack: Callable[..., Render], tmp_path: Path
) -> None:
    project = local_stack(engine, tmp_path / "project")
    configure(engine, project, PINNED)

    def ok(*args: str) -> str:
        done = engine.run(project, *args, "--stack", "local", timeout=600)
        assert done.returncode == 0, f"pulumi {' '.join(args)}:\n{done.stdout}"
        return done.stdout

    ok("preview")
    ok("up", "--yes", "--skip-preview")
    ok("up", "--yes", "--skip-preview", "--expect-no-changes")
    ok("refresh", "--yes", "--skip-preview", "--expect-no-changes")
    outputs = json.loads(ok("stack", "output", "--json", "--show-secrets"))
    state = json.loads(ok("stack", "export", "--show-secrets"))
    ok("destroy", "--yes", "--skip-preview")
    # Compared after destroy, so a difference leaves nothing behind in the session's cluster.
    # The mocks and the real deploy: the same resources, inputs, names and outputs (agree.py),
    # the smoke Jobs included.
    found = disagreements(render_stack("local", PINNED), state["deployment"]["resources"], outputs)
    assert not found, "\n".join(found)
    # The snapshot has the built images; with every image pinned the real state holds the rest
    # of it, the smoke Jobs included, every URN unmoved (providers and the stack aside).
    snapshot = json.loads((ROOT / "tests" / "stacks" / "urns" / "local.json").read_text())
    resources = [r for r in state["deployment"]["resources"] if not r["type"].startswith("pulumi:")]
    real = {r["urn"] for r in resources}
    assert real <= {r["urn"] for r in snapshot}, sorted(real - {r["urn"] for r in snapshot})
    builds = ("pulumi:", "docker:index/image:Image", "gke-bluegreen:infra:AppImage")
    expected = {r["urn"] for r in snapshot if not r["type"].startswith(builds)}
    assert real == expected, sorted(expected ^ real)
    jobs = [r for r in resources if r["type"] == "kubernetes:batch/v1:Job"]
    assert len(jobs) == 6, "a smoke Job per color of each of the three apps"

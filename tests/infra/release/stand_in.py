"""A stand-in for the Pulumi CLI (``$PULUMI``) for the release tool's tests, and a way to run the
tool itself in another process on a test's project.

The stand-in answers ``pulumi up --stack S …``, ``pulumi stack output --json --stack S`` (and
``pulumi stack output NAME --show-secrets --json --stack S``, one output) and ``pulumi stack
export --stack S`` (a state whose only resources are the failed smoke Jobs a test names). A
good ``up`` runs the real program offline on the project's stack file and keeps its outputs as
a real deploy returns them (registry digests, :func:`~tests.infra.release.harness.
deployed_outputs`); ``stack output`` prints the kept outputs. It also writes the HTTPRoutes the
program rendered to ``stand-in-routes-S.json`` (``namespace/name`` → manifest), which the canary
tests' Kubernetes API stub and Gateway stand-in serve (:mod:`tests.infra.release.canary_world`).
Each can also fail, hang, be killed, and ``stack output`` can print stale, empty, foreign or
garbage outputs: a test queues what the next calls do (:meth:`StandIn.queue`; the last one queued
repeats). Every call is logged.

The stand-in runs as ``python -m tests.infra.release.stand_in``, from the repository (the
release tool runs the CLI there); the test's project is named by ``$STAND_IN_PROJECT``.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from infra.paths import ROOT

#: The environment variable naming the test's project folder.
ENV = "STAND_IN_PROJECT"
#: What ``stack output`` prints for "foreign": the outputs of another project's stack.
FOREIGN = {
    "cluster_name": "someone-elses",
    "apps": {"shop": {"active_color": "blue", "images": {"blue": "x/shop@sha256:" + "1" * 64}}},
}
#: What ``stack output`` prints for "garbage".
GARBAGE = "<html><body>502 Bad Gateway</body></html>\n"


class StandIn:
    """The stand-in as a test drives it: what its next calls do, what it keeps, what it saw."""

    def __init__(self, project: Path) -> None:
        self.project = project
        self.path = project / "pulumi"
        self.control = project / "stand-in.json"
        self.log = project / "stand-in.log"

    def queue(
        self, command: str, *modes: str, url: str | None = None, kubeconfig: str | None = None
    ) -> None:
        """What the next ``up`` or ``output`` calls do, in turn (the last repeats):

        * up: ``ok``, ``noop`` (succeeds, keeps the outputs as they are: the next ``state``
          is stale), ``fail`` (exit 1, nothing changed), ``hang``, ``killed`` (SIGKILL);
        * output: ``state`` (the kept outputs; ``{}`` before any up), ``stale`` (those of the
          up before), ``empty`` (prints nothing), ``foreign``, ``garbage``, ``fail``, ``hang``;
        * export: ``state`` (no failed resource), ``failed:<app>-smoke-<color>`` (that smoke Job
          failed in the last up, as the engine records it), ``garbage``, ``fail``.

        ``url``: every app's public URL in what a good ``up`` keeps (a loopback test server);
        ``kubeconfig``: the ``kubeconfig`` output it keeps (a Kubernetes API stub's)."""
        data = _load(self.control)
        data[command] = list(modes)
        if url is not None:
            data["url"] = url
        if kubeconfig is not None:
            data["kubeconfig"] = kubeconfig
        self.control.write_text(json.dumps(data))

    def outputs(self, stack: str) -> dict[str, Any]:
        """The outputs the last good ``up`` of ``stack`` kept."""
        return _load(self.project / f"stand-in-state-{stack}.json")

    def keep(self, stack: str, outputs: dict[str, Any]) -> None:
        """Sets the outputs kept for ``stack`` (as if deployed)."""
        (self.project / f"stand-in-state-{stack}.json").write_text(json.dumps(outputs))

    def calls(self) -> list[str]:
        """Every call so far: ``up imageview``, ``output imageview``; an ``up`` with
        ``--policy-pack DIR`` is ``up imageview policy=DIR``."""
        return self.log.read_text().splitlines() if self.log.exists() else []


def install(project: Path, monkeypatch: pytest.MonkeyPatch) -> StandIn:
    """Makes the stand-in the Pulumi CLI the tools run (``$PULUMI``) on ``project``."""
    stand_in = StandIn(project)
    stand_in.path.write_text(
        f'#!/bin/sh\nexec {sys.executable} -m tests.infra.release.stand_in "$@"\n'
    )
    stand_in.path.chmod(0o755)
    monkeypatch.setenv("PULUMI", str(stand_in.path))
    monkeypatch.setenv(ENV, str(project))
    stand_in.queue("up", "ok")
    stand_in.queue("output", "state")
    stand_in.queue("export", "state")
    return stand_in


def tool(project: Path, argv: Sequence[str], **popen: Any) -> subprocess.Popen[str]:
    """``python -m infra.release ARGV`` in another process, on ``project``'s stack files (the
    environment, $PULUMI included, is this process's)."""
    code = (
        "import pathlib, sys, infra.paths\n"
        f"infra.paths.PROJECT_FILE = pathlib.Path({str(project / 'Pulumi.yaml')!r})\n"
        "from infra.release.__main__ import main\n"
        "sys.exit(main(sys.argv[1:]))\n"
    )
    return subprocess.Popen([sys.executable, "-c", code, *argv], cwd=ROOT, text=True, **popen)


# --------------------------------------------------------------------------- the stand-in itself


def _load(path: Path) -> dict[str, Any]:
    try:
        data: dict[str, Any] = json.loads(path.read_text())
    except FileNotFoundError:
        return {}
    return data


def _next(project: Path, command: str) -> str:
    control = project / "stand-in.json"
    data = _load(control)
    modes: list[str] = data.get(command) or ["ok" if command == "up" else "state"]
    mode = modes.pop(0) if len(modes) > 1 else modes[0]
    data[command] = modes
    control.write_text(json.dumps(data))
    return mode


def _option(argv: list[str], name: str) -> str:
    return argv[argv.index(name) + 1]


def _up(project: Path, stack: str, mode: str) -> int:
    if mode == "fail":
        print("error: update failed: googleapi: Error 503: backend unavailable", file=sys.stderr)
        return 1
    if mode == "hang":
        time.sleep(600)
    if mode == "killed":
        os.kill(os.getpid(), signal.SIGKILL)
    if mode == "noop":
        print(f"Updating ({stack}): done (kept as it was)")
        return 0
    import infra.paths

    infra.paths.PROJECT_FILE = project / "Pulumi.yaml"
    from infra.release import rendering
    from tests.infra.release.harness import deployed_outputs

    render = rendering.render(stack)
    outputs = deployed_outputs(render)
    control = _load(project / "stand-in.json")
    url = control.get("url")
    if url is not None:
        for entry in outputs.get("apps", {}).values():
            entry["url"] = url
    if control.get("kubeconfig") is not None:
        outputs["kubeconfig"] = control["kubeconfig"]
    routes = {
        f"{m['metadata'].get('namespace', 'default')}/{m['metadata']['name']}": m
        for m in render.manifests()
        if m["kind"] == "HTTPRoute"
    }
    (project / f"stand-in-routes-{stack}.json").write_text(json.dumps(routes))
    state = project / f"stand-in-state-{stack}.json"
    if state.exists():
        state.replace(project / f"stand-in-stale-{stack}.json")
    state.write_text(json.dumps(outputs))
    print(f"Updating ({stack}): done")
    return 0


def _output(project: Path, stack: str, mode: str, name: str | None = None) -> int:
    if mode == "fail":
        print("error: getting outputs: 403 Forbidden", file=sys.stderr)
        return 1
    if mode == "hang":
        time.sleep(600)
    if mode == "empty":
        return 0
    if mode == "garbage":
        sys.stdout.write(GARBAGE)
        return 0
    if mode == "foreign":
        print(json.dumps(FOREIGN))
        return 0
    kept = _load(project / f"stand-in-{'stale' if mode == 'stale' else 'state'}-{stack}.json")
    return _print_output(kept, name)


def _print_output(kept: dict[str, Any], name: str | None) -> int:
    """All the outputs, or the one named (as ``pulumi stack output NAME --json`` prints it)."""
    if name is None:
        print(json.dumps(kept))
        return 0
    if name not in kept:
        print(f"error: current stack does not have output property '{name}'", file=sys.stderr)
        return 255
    print(json.dumps(kept[name]))
    return 0


def _export(stack: str, mode: str) -> int:
    if mode == "fail":
        print("error: getting the state: 403 Forbidden", file=sys.stderr)
        return 1
    if mode == "garbage":
        sys.stdout.write(GARBAGE)
        return 0
    resources = []
    if mode.startswith("failed:"):
        logical = mode.removeprefix("failed:")
        resources.append(
            {
                "urn": f"urn:pulumi:{stack}::gke-bluegreen::gke-bluegreen:infra:BlueGreenApp"
                f"$kubernetes:batch/v1:Job::{logical}",
                "type": "kubernetes:batch/v1:Job",
                "outputs": {"metadata": {"name": f"{logical}-0123abcd"}},
                "initErrors": [
                    f"[Pod {logical}-0123abcd-x1y2z]: [Error] exit code 1",
                    "[BackoffLimitExceeded] Job has reached the specified backoff limit",
                ],
            }
        )
    print(json.dumps({"version": 3, "deployment": {"manifest": {}, "resources": resources}}))
    return 0


#: The commands the stand-in answers, by their first arguments.
COMMANDS = {("up",): "up", ("stack", "output"): "output", ("stack", "export"): "export"}


def main(argv: list[str]) -> int:
    """``pulumi up --stack S …``, ``pulumi stack output --json --stack S`` or ``pulumi stack
    export --stack S``."""
    project = Path(os.environ[ENV])
    stack = _option(argv, "--stack")
    command = COMMANDS.get(tuple(argv[:1])) or COMMANDS.get(tuple(argv[:2])) or ""
    if not command:
        print(f"error: the stand-in does not do `pulumi {' '.join(argv)}`", file=sys.stderr)
        return 2
    policy = f" policy={_option(argv, '--policy-pack')}" if "--policy-pack" in argv else ""
    with (project / "stand-in.log").open("a") as log:
        log.write(f"{command} {stack}{policy}\n")
    mode = _next(project, command)
    if command == "export":
        return _export(stack, mode)
    if command == "up":
        return _up(project, stack, mode)
    name = argv[2] if len(argv) > 2 and not argv[2].startswith("-") else None
    return _output(project, stack, mode, name)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

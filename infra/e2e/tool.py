"""The project's own tools, as a user runs them: the release tool through its command line
(``python -m infra.release``, with the interpreter running this driver, from the repository
root), the Pulumi CLI for the stack's outputs (``$PULUMI``, as every tool of the project finds
it), and the stack file read as the data it is.

Nothing here imports the release tool: the driver judges it from outside, by what it prints and
writes and by what the cluster then does.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from dataclasses import dataclass
from typing import Any

import yaml

from infra import pulumi_cli
from infra.cli import scratch_dir, uninterrupted
from infra.paths import ROOT

#: The ``version`` of ``status --json`` this driver reads (infra/release/status.py).
STATUS_VERSION = 1
#: How long a status or outputs read may take, in seconds.
READ_TIMEOUT_S = 600


class ToolError(RuntimeError):
    """A tool could not be run or did not answer as documented; the message says which."""


@dataclass(frozen=True)
class Recorded:
    """What the stack file says of the app."""

    active_color: str
    """``activeColor``: the color the live Service selects (default blue)."""
    service: str
    """The live Service's name (``service.name``, default the app's name)."""


def stack_path(stack: str) -> str:
    return f"stacks/Pulumi.{stack}.yaml"


def recorded(stack: str, app: str) -> Recorded:
    """``activeColor`` and the live Service's name of ``app`` in the stack file."""
    path = ROOT / stack_path(stack)
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        known = sorted(p.name.split(".")[1] for p in (ROOT / "stacks").glob("Pulumi.*.yaml"))
        raise ToolError(
            f"no stack file {stack_path(stack)}: stacks are {', '.join(known)}"
        ) from None
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as err:
        raise ToolError(f"cannot read {stack_path(stack)}: {err}") from None
    config = document.get("config") if isinstance(document, dict) else None
    apps = config.get("gke-bluegreen:apps") if isinstance(config, dict) else None
    node = apps.get(app) if isinstance(apps, dict) else None
    if not isinstance(node, dict):
        names = ", ".join(apps) if isinstance(apps, dict) else "none"
        raise ToolError(f"{stack_path(stack)} has no app {app!r} (its apps: {names})")
    service = node.get("service")
    name = service.get("name") if isinstance(service, dict) else None
    return Recorded(str(node.get("activeColor", "blue")), str(name or app))


@dataclass(frozen=True)
class Ran:
    """A release step as it ran."""

    code: int
    seconds: float


def release_step(step: str, stack: str, app: str, extra: list[str], timeout_s: float) -> Ran:
    """``python -m infra.release STEP --stack S --app A --apply EXTRA``; its output goes to
    this driver's output as it runs. A step that outlasts ``timeout_s`` is stopped."""
    argv = [sys.executable, "-m", "infra.release", step, "--stack", stack, "--app", app]
    argv += ["--apply", *extra]
    started = time.monotonic()
    with uninterrupted(f"the {step} in progress finished first (it handles Ctrl-C itself)"):
        try:
            done = subprocess.run(argv, cwd=ROOT, timeout=timeout_s, check=False)
        except subprocess.TimeoutExpired:
            raise ToolError(
                f"the release tool's {step} did not finish within {timeout_s:g} s; stopped it"
            ) from None
        except OSError as err:
            raise ToolError(f"cannot run {sys.executable}: {err.strerror or err}") from None
    return Ran(done.returncode, time.monotonic() - started)


def status(stack: str, app: str) -> dict[str, Any]:
    """The app's entry of ``python -m infra.release status --json --stack S --app A --outputs
    FILE``, FILE holding the stack's outputs as `pulumi stack output --json` prints them now (so
    its ``served`` is the deployed color)."""
    with scratch_dir("e2e-outputs-") as scratch:
        file = scratch / "outputs.json"
        file.write_text(json.dumps(outputs(stack)))
        argv = [sys.executable, "-m", "infra.release", "status", "--json", "--stack", stack]
        argv += ["--app", app, "--outputs", str(file)]
        data = _json(argv, "python -m infra.release status --json")
    if data.get("version") != STATUS_VERSION:
        raise ToolError(
            f"status --json printed version {data.get('version')!r}; this driver reads version "
            f"{STATUS_VERSION} (infra/release/status.py)"
        )
    entries = [a for a in data.get("apps") or [] if isinstance(a, dict) and a.get("app") == app]
    if len(entries) != 1:
        raise ToolError(f"status --json printed {len(entries)} entries for {app}; expected one")
    return entries[0]


def outputs(stack: str) -> dict[str, Any]:
    """``pulumi stack output --json --stack S``, with the CLI ``$PULUMI`` names."""
    pulumi = pulumi_cli.find_pulumi()
    if pulumi is None:
        raise ToolError(
            f"the Pulumi CLI ({pulumi_cli.wanted()}) is not on PATH: install it or set $PULUMI"
        )
    return _json([pulumi, "stack", "output", "--json", "--stack", stack], "pulumi stack output")


def live_url(stack: str, app: str) -> str:
    """``apps.<app>.url`` of the stack's outputs (empty for a Service without a public address,
    e.g. a LoadBalancer on Minikube without `minikube tunnel`)."""
    entry = (outputs(stack).get("apps") or {}).get(app)
    if not isinstance(entry, dict):
        raise ToolError(f"the outputs of stack {stack} name no app {app}: is it deployed?")
    return str(entry.get("url") or "")


def _json(argv: list[str], shown: str) -> dict[str, Any]:
    try:
        done = subprocess.run(
            argv, cwd=ROOT, capture_output=True, text=True, timeout=READ_TIMEOUT_S, check=False
        )
    except subprocess.TimeoutExpired:
        raise ToolError(f"{shown} did not answer within {READ_TIMEOUT_S} s") from None
    except OSError as err:
        raise ToolError(f"cannot run {argv[0]}: {err.strerror or err}") from None
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["(no message)"])[-1]
        raise ToolError(f"{shown} failed (exit {done.returncode}): {last}")
    try:
        data = json.loads(done.stdout)
    except ValueError:
        raise ToolError(f"{shown} did not print JSON") from None
    if not isinstance(data, dict):
        raise ToolError(f"{shown} did not print a JSON object")
    return data

"""What is deployed: the stack's outputs (``pulumi stack output --json``, or a file of them), and
the Pulumi CLI that reads and changes it (:func:`infra.pulumi_cli.find_pulumi`: ``$PULUMI``,
else ``pulumi`` on PATH).

Reading fails closed: a CLI that fails, hangs or prints something else is an error, never
"nothing deployed".
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

from infra import pulumi_cli
from infra.cli import uninterrupted
from infra.paths import ROOT
from infra.release.errors import ReleaseError
from infra.settings import Color

#: A stack's outputs, as ``pulumi stack output --json`` prints them.
Outputs = dict[str, Any]
#: How long ``pulumi up`` and ``pulumi stack output`` may take, in seconds.
PULUMI_TIMEOUT_S = 3600


def read_outputs(stack: str, outputs_file: Path | None) -> Outputs:
    """The stack's outputs: from ``outputs_file``, else from ``pulumi stack output --json``."""
    if outputs_file is not None:
        try:
            data = json.loads(outputs_file.read_text())
        except (OSError, ValueError) as err:
            raise ReleaseError(
                f"--outputs {outputs_file}: not a JSON outputs file ({err}); make one with "
                f"`pulumi stack output --json --stack {stack} > FILE`"
            ) from None
    else:
        pulumi = _pulumi(f"or pass --outputs FILE (pulumi stack output --json --stack {stack})")
        result = run_pulumi(
            [pulumi, "stack", "output", "--json", "--stack", stack], capture_output=True, text=True
        )
        if result.returncode != 0:
            last = (result.stderr.strip().splitlines() or ["(no message)"])[-1]
            raise ReleaseError(
                f"pulumi stack output failed: {last}; fix that (`pulumi login`, the stack's "
                "name), or pass --outputs FILE"
            )
        try:
            data = json.loads(result.stdout or "{}")
        except ValueError:
            raise ReleaseError(
                "pulumi stack output did not print JSON; pass --outputs FILE instead"
            ) from None
    if not isinstance(data, dict):
        raise ReleaseError(
            "the stack outputs are not a JSON object; pass the file `pulumi stack output --json` "
            "prints"
        )
    return data


def deployed_app(outputs: Outputs, app: str) -> dict[str, Any] | None:
    """What the outputs say of ``app`` (``apps.<app>``); ``None`` when it is not deployed."""
    apps = outputs.get("apps")
    entry = apps.get(app) if isinstance(apps, dict) else None
    return entry if isinstance(entry, dict) else None


def live_image(stack: str, outputs: Outputs, app: str, color: Color) -> str:
    """The image ``color`` of ``app`` runs, by digest, as the outputs name it."""
    entry = deployed_app(outputs, app)
    if entry is None:
        raise ReleaseError(
            f"{app} is not deployed on stack {stack} yet: deploy it first (`pulumi up --stack "
            f"{stack}`; the first deploy may build both colors), then start a release"
        )
    image = (entry.get("images") or {}).get(color)
    if not isinstance(image, str) or not image:
        raise ReleaseError(
            f"the outputs name no image for {app}'s {color} color: run `pulumi up --stack "
            f"{stack}` so that they do, or pass --outputs with the deployed stack's outputs"
        )
    return image


def pulumi_up(stack: str, message: str) -> None:
    """``pulumi up --yes`` of the stack, its output shown as it runs."""
    pulumi = _pulumi("or leave out --apply and run `pulumi up` yourself")
    result = run_pulumi([pulumi, "up", "--stack", stack, "--yes", "--message", message])
    if result.returncode != 0:
        raise ReleaseError(
            f"pulumi up failed (exit {result.returncode}; its output is above); the stack file "
            f"already records the step: fix the cause, then run `pulumi up --stack {stack}`"
        )


def run_pulumi(argv: list[str], **kwargs: Any) -> subprocess.CompletedProcess[Any]:
    """Runs the Pulumi CLI from the project root; a CLI that cannot start or does not finish
    within :data:`PULUMI_TIMEOUT_S` is one error line, not a traceback. Ctrl-C waits for it (it
    handles Ctrl-C itself)."""
    command = " ".join(["pulumi", *(a for a in argv[1:3] if not a.startswith("-"))])
    try:
        with uninterrupted(f"{command} finished first (it handles Ctrl-C itself)"):
            return subprocess.run(argv, timeout=PULUMI_TIMEOUT_S, check=False, cwd=ROOT, **kwargs)
    except subprocess.TimeoutExpired:
        raise ReleaseError(
            f"{command} did not finish within {PULUMI_TIMEOUT_S} s; stopped it: run the step again"
        ) from None
    except OSError as err:
        raise ReleaseError(
            f"cannot run {argv[0]}: {err.strerror or err}; point $PULUMI at a working Pulumi CLI"
        ) from None


def _pulumi(otherwise: str) -> str:
    pulumi = pulumi_cli.find_pulumi()
    if pulumi is None:
        raise ReleaseError(
            f"the Pulumi CLI ({pulumi_cli.wanted()}) is not on PATH: install it or set $PULUMI "
            f"to it, {otherwise}"
        )
    return pulumi

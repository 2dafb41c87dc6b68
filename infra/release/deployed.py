"""What is deployed: the stack's outputs (``pulumi stack output --json``, or a file of them), and
the Pulumi CLI that reads and changes it (:func:`infra.pulumi_cli.find_pulumi`: ``$PULUMI``,
else ``pulumi`` on PATH).

Reading fails closed: a CLI that fails, hangs or prints something else is an error, never
"nothing deployed".
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from infra import build_context, pulumi_cli
from infra.cli import uninterrupted
from infra.paths import ROOT
from infra.release.errors import ReleaseError
from infra.settings import COLORS, Color, GkeTarget, Settings

#: A stack's outputs, as ``pulumi stack output --json`` prints them.
Outputs = dict[str, Any]
#: How long ``pulumi up`` and ``pulumi stack output`` may take, in seconds.
PULUMI_TIMEOUT_S = 3600
#: An image by digest, as a pushed build or a pin names it.
DIGEST_REF = re.compile(r"(?P<repo>[a-z0-9][^@\s]*)@sha256:[0-9a-f]{64}")
#: The content tag a build is made as (:func:`infra.build_context.tag`).
CONTENT_TAG = re.compile(r"src-[0-9a-f]{12}")
#: The type of a smoke Job (:mod:`infra.components.smoke`) in the engine's state.
SMOKE_JOB = "kubernetes:batch/v1:Job"


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
        if not result.stdout.strip():
            # `pulumi stack output --json` prints `{}` for a stack without outputs; nothing at
            # all is a CLI that did not do its job, never "nothing deployed".
            raise ReleaseError(
                "pulumi stack output printed nothing (not even {}); check the CLI ($PULUMI) and "
                "the stack, or pass --outputs FILE"
            )
        try:
            data = json.loads(result.stdout)
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


def read_secret_output(stack: str, name: str) -> str:
    """One output that is a secret, as text: ``pulumi stack output NAME --show-secrets --json``
    (without ``--show-secrets`` the CLI prints ``[secret]``)."""
    pulumi = _pulumi(f"or pass the {name} as a file")
    result = run_pulumi(
        [pulumi, "stack", "output", name, "--show-secrets", "--json", "--stack", stack],
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        last = (result.stderr.strip().splitlines() or ["(no message)"])[-1]
        raise ReleaseError(
            f"pulumi stack output {name} failed: {last}; fix that (`pulumi login`, the stack's "
            f"name, `pulumi up` so that the stack has the output), or pass the {name} as a file"
        )
    try:
        value = json.loads(result.stdout)
    except ValueError:
        value = None
    if not isinstance(value, str) or not value.strip():
        raise ReleaseError(
            f"pulumi stack output {name} --show-secrets --json printed no text; check the CLI "
            f"($PULUMI) and the stack, or pass the {name} as a file"
        )
    return value


def check_outputs(settings: Settings, outputs: Outputs) -> None:
    """Refuses outputs a step cannot trust: not this project's, another stack's (another
    cluster, or none of its apps), or an app entry that is not what the program exports. ``{}``
    is a stack never deployed, and passes."""
    stack = settings.stack
    make = f"pass the file `pulumi stack output --json --stack {stack}` prints"
    if not outputs:
        return
    apps = outputs.get("apps")
    if not isinstance(apps, dict):
        raise ReleaseError(
            f"the outputs have no apps, so they are not the outputs of stack {stack} of this "
            f"project: {make}"
        )
    target = settings.target
    cluster = outputs.get("cluster_name")
    if isinstance(target, GkeTarget) and cluster is not None and cluster != target.cluster.name:
        raise ReleaseError(
            f"the outputs are of cluster {cluster!r}, and stack {stack} deploys cluster "
            f"{target.cluster.name!r}: outputs of another stack? {make}"
        )
    if apps and not set(apps) & set(settings.apps):
        raise ReleaseError(
            f"the outputs name apps {', '.join(sorted(apps))}, and stack {stack} has none of "
            f"them ({', '.join(settings.apps)}): outputs of another stack? {make}"
        )
    for name, entry in apps.items():
        images = entry.get("images") if isinstance(entry, dict) else None
        if (
            not isinstance(entry, dict)
            or entry.get("active_color") not in COLORS
            or not isinstance(images, dict)
            or not all(c in COLORS and isinstance(i, str) and i for c, i in images.items())
        ):
            raise ReleaseError(
                f"the outputs of {name} are not what the program exports (active_color blue or "
                f"green, images by color): {make}"
            )
        if isinstance(target, GkeTarget):
            for color, image in images.items():
                if not DIGEST_REF.fullmatch(image):
                    raise ReleaseError(
                        f"the outputs name {name}'s {color} image {image!r}, not by digest "
                        f"(repo@sha256:<64 hex>), and a GKE stack runs its images by digest: "
                        f"{make}"
                    )


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


@dataclass(frozen=True)
class DeployedImages:
    """The digest each deployed build has, for the offline renders of a step (image name,
    ``repo:<content tag>`` → ``repo@sha256:…``; :class:`infra.offline.mocks.CloudMocks`)."""

    before: dict[str, str]
    """For the render of the stack file as it is: what is deployed. A color built from source
    runs the digest the outputs give it, whichever sources it was built from."""
    after: dict[str, str]
    """For the render after the step: only a build of the very sources a color was deployed
    from keeps its digest (what ``pulumi up`` does); any other build gets a new one."""
    assumed: tuple[str, ...] = ()
    """The colors (``kubia's blue``) whose outputs do not say what their image was built from
    (a deploy from before the program exported ``apps.<app>.tags``): their current sources are
    taken for it."""

    def note(self) -> str | None:
        """One line about :attr:`assumed`, when there are any."""
        if not self.assumed:
            return None
        return (
            f"note: the outputs do not say which sources {', '.join(self.assumed)} were built "
            "from (a deploy from before apps.<app>.tags was exported), so this assumes the "
            "current sources; the next `pulumi up` records them"
        )


def deployed_images(settings: Settings, outputs: Outputs) -> DeployedImages:
    """Which digest each build gets in the renders of a step on ``settings`` (the stack file
    before the step), from what ``outputs`` say each color runs and was built from. Images
    that are not by digest (the local platform's ``name:tag``) need nothing: they name their
    build themselves."""
    exact: dict[str, str] = {}
    current: dict[str, str] = {}
    untagged: dict[str, str] = {}
    assumed: list[str] = []
    for app in settings.apps.values():
        entry = deployed_app(outputs, app.name)
        if entry is None:
            continue
        images = entry.get("images")
        images = images if isinstance(images, dict) else {}
        tags = entry.get("tags")
        live = app.active_color
        # The live color first: two colors that disagree on one build's digest keep the live's.
        for color in sorted(COLORS, key=lambda c: c != live):
            image = images.get(color)
            found = DIGEST_REF.fullmatch(image) if isinstance(image, str) else None
            if found is None or not isinstance(image, str):
                continue
            repo = found["repo"]
            tag = tags.get(color) if isinstance(tags, dict) else None
            if isinstance(tag, str) and CONTENT_TAG.fullmatch(tag):
                exact.setdefault(f"{repo}:{tag}", image)
            spec = app.colors[color]
            if spec.image is not None or spec.source is None:
                continue
            name = f"{repo}:{build_context.tag(spec.source)}"
            current.setdefault(name, image)
            if not isinstance(tags, dict):
                untagged.setdefault(name, image)
                assumed.append(f"{app.name}'s {color}")
    return DeployedImages(
        before={**current, **exact}, after={**untagged, **exact}, assumed=tuple(assumed)
    )


def failed_smoke_jobs(stack: str) -> dict[str, str]:
    """The smoke Jobs whose last ``pulumi up`` failed, from the engine's state (``pulumi stack
    export``): by logical name (``<app>-smoke-<color>``), the Job's name and the last error the
    engine recorded.

    A resource that was created but failed to become ready stays in the state with its
    ``initErrors``, and every later update of the stack, changed or not, takes it again: an
    "empty update step to attempt to continue awaiting initialization" (pulumi/pulumi v3.274.1
    ``pkg/resource/deploy/step_generator.go``). A failed Job stays failed and its pod template
    cannot change, so that retry fails every later ``pulumi up`` until a new Job (a new
    candidate, whose Job has another name) replaces it. The offline renders cannot see this:
    they know the config, not what the engine recorded."""
    pulumi = _pulumi("or leave out --apply and run `pulumi up` yourself")
    result = run_pulumi(
        [pulumi, "stack", "export", "--stack", stack], capture_output=True, text=True
    )
    if result.returncode != 0:
        last = (result.stderr.strip().splitlines() or ["(no message)"])[-1]
        raise ReleaseError(
            f"pulumi stack export failed: {last}; fix that (`pulumi login`, the stack's name), "
            "then run the step again; nothing written"
        )
    try:
        state = json.loads(result.stdout)
        resources = state["deployment"].get("resources")
        if resources is None:  # a stack with nothing deployed
            resources = []
        if not isinstance(resources, list):
            raise TypeError(type(resources).__name__)
    except (ValueError, KeyError, TypeError, AttributeError):
        raise ReleaseError(
            "pulumi stack export did not print a stack's state; check the CLI ($PULUMI) and the "
            "stack, then run the step again; nothing written"
        ) from None
    failed: dict[str, str] = {}
    for r in resources:
        if not isinstance(r, dict) or r.get("type") != SMOKE_JOB or r.get("delete"):
            continue
        errors = r.get("initErrors")
        if not errors or not isinstance(errors, list):
            continue
        logical = str(r.get("urn", "")).rsplit("::", 1)[-1]
        metadata = (r.get("outputs") or {}).get("metadata") or {}
        name = metadata.get("name") if isinstance(metadata, dict) else None
        last = str(errors[-1]).strip().splitlines() or ["(no message)"]
        failed[logical] = f"Job {name or logical}: {last[0]}"
    return failed


def pulumi_cli_or_refuse() -> None:
    """Refuses ``--apply`` before anything is written when there is no Pulumi CLI to apply
    with."""
    _pulumi("or leave out --apply and run `pulumi up` yourself; nothing written")


def pulumi_up(stack: str, message: str, extra: Sequence[str] = ()) -> None:
    """``pulumi up --yes`` of the stack (with ``extra`` options, e.g. ``--policy-pack DIR``),
    its output shown as it runs."""
    pulumi = _pulumi("or leave out --apply and run `pulumi up` yourself")
    result = run_pulumi([pulumi, "up", "--stack", stack, "--yes", "--message", message, *extra])
    if result.returncode != 0:
        how = (
            f"was killed (signal {-result.returncode})"
            if result.returncode < 0
            else f"failed (exit {result.returncode}; its output is above)"
        )
        raise ReleaseError(
            f"pulumi up {how}; the stack file already records the step, and what the cluster "
            f"runs is unknown (`status --stack {stack} --outputs FILE` shows it): fix the cause, "
            f"then run `pulumi up --stack {stack}` (or the step with --apply again); a smoke Job "
            "that failed fails every later `pulumi up` until a new `start` replaces it"
        )


def run_pulumi(argv: list[str], **kwargs: Any) -> subprocess.CompletedProcess[Any]:
    """Runs the Pulumi CLI from the project root; a CLI that cannot start or does not finish
    within :data:`PULUMI_TIMEOUT_S` is one error line, not a traceback. Ctrl-C waits for it (it
    handles Ctrl-C itself)."""
    command = " ".join(["pulumi", *(a for a in argv[1:3] if not a.startswith("-"))])
    # The CLI writes straight to the descriptors it inherits, and into a pipe (a CI log) Python
    # holds the tool's own lines in its buffer until exit: without this, what the step is and
    # what `pulumi up` will change would be printed after the update's own output.
    sys.stdout.flush()
    sys.stderr.flush()
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

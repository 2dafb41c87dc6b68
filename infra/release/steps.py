"""What every step of a release is: a :class:`Step` (the edited stack file and what the step may
change), planned by :mod:`.start`, :mod:`.switch` (promote, rollback) and :mod:`.finish`.

A plan reads the stack file and the program's settings, refuses a step out of order, and edits a
copy of the document; nothing is written until :func:`infra.release.run.run_step` has shown what
``pulumi up`` will change and found nothing the step may not change. Refusals speak of the
candidate, the live color, the idle color and the previous one, and say what to run instead.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from infra.release.changes import Change
from infra.release.deployed import (
    DeployedImages,
    Outputs,
    check_outputs,
    deployed_images,
)
from infra.release.document import StackFile
from infra.settings import Color, Settings

#: Why a step may not make a change, in the user's terms; ``None`` when it may.
Refusal = Callable[[Change], str | None]


@dataclass
class Step:
    """A step's plan: the edited stack file and what it may change."""

    name: str
    """``start``, ``promote``, ``rollback`` or ``finish``."""
    stack: str
    app: str
    file: StackFile
    summary: str
    """One line: what the step does."""
    refusal: Refusal
    """Why the step may not make a change, or ``None`` when it may."""
    images: DeployedImages | None = None
    """The digests deployed builds have, for the renders; ``None`` when the outputs were not
    read (both renders then make up the same digests)."""
    before: str | None = None
    """The stack file as deployed, when it is not the file (a step recorded there whose
    ``pulumi up`` did not finish); ``None``: the file."""


def lives(settings: Settings) -> dict[str, Color]:
    """Every app's live color, for the refusals' words."""
    return {name: app.active_color for name, app in settings.apps.items()}


def images_of(settings: Settings, outputs: Outputs | None) -> DeployedImages | None:
    if outputs is None:
        return None
    check_outputs(settings, outputs)
    return deployed_images(settings, outputs)


def whose(change: Change, lives: Mapping[str, Color]) -> str:
    """The object a change touches, for a sentence: ``the stack's GCP Cluster gke-cluster
    (urn:…)``, ``node-app's live color blue (Deployment node-app-blue (blue) rolls)``."""
    if change.app is None:
        return f"the stack's {change.what()} ({change.how}; {change.urn or 'no URN'})"
    if change.color is None:
        return f"{change.app}'s {change.what()} ({change.how})"
    role = "live" if lives.get(change.app) == change.color else "idle"
    return f"{change.app}'s {role} color {change.color} ({change.what()} {change.how})"

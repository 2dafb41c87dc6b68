"""What a step changes: the two renders of the program (the stack file before the step, and after)
compared, as the objects ``pulumi up`` would change and how.

Three comparisons, each of its own kind of thing: the Kubernetes objects (by kind and name, as
they would be applied), the other resources (created or deleted: their URNs), and the pause after
a cutover (``ScaleDownDelay``: it waits when the color traffic leaves changes).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from infra.offline import program
from infra.offline.program import is_kubernetes_object


class How(StrEnum):
    """How ``pulumi up`` changes one object."""

    ROLLS = "rolls"
    """Pods restart: a Deployment's pod template, or a color's new ConfigMap or Secret."""
    SCALES = "scales"
    """A Deployment's replicas change, and nothing else."""
    MOVES_TRAFFIC = "moves traffic"
    """The live Service selects the other color."""
    RETARGETS = "re-targets"
    """A Service with a role (the preview Service) selects the other color."""
    RECHECKS = "re-checks"
    """A new smoke Job (one per thing it tests) runs."""
    CREATES = "creates"
    DELETES = "deletes"
    UPDATES = "updates"
    """Anything else about an object changes."""
    WAITS = "waits"
    """The pause before the color traffic left scales down."""


@dataclass(frozen=True)
class Change:
    """One object ``pulumi up`` would change, and how."""

    kind: str
    """The Kubernetes kind (``Deployment``), or the resource type's last part (``Image``)."""
    name: str
    how: How
    color: str | None
    """The color it belongs to, if any."""
    seconds: int = 0
    """How long it waits (:attr:`How.WAITS` only)."""

    def line(self) -> str:
        """``  rolls          Deployment webserver-green (green)``."""
        how = f"{self.how} {self.seconds}s" if self.how is How.WAITS else str(self.how)
        return f"  {how:<14} {self.kind} {self.name}" + (f" ({self.color})" if self.color else "")

    def what(self) -> str:
        """``Deployment webserver-green (green)``, for a sentence."""
        return f"{self.kind} {self.name}" + (f" ({self.color})" if self.color else "")


def diff(before: program.Render, after: program.Render) -> list[Change]:
    """Everything ``pulumi up`` would change between two renders."""
    return [
        *kubernetes_changes(before, after),
        *resource_changes(before, after),
        *pauses(before, after),
    ]


def kubernetes_changes(before: program.Render, after: program.Render) -> list[Change]:
    """The Kubernetes objects that differ, object by object (the manifests pulumi would apply). A
    changed Job or auto-named ConfigMap/Secret is a new name: it shows as created (the new one)
    and deleted (the one it replaces)."""
    left = {(m["kind"], m["metadata"]["name"]): m for m in before.manifests()}
    right = {(m["kind"], m["metadata"]["name"]): m for m in after.manifests()}
    changes: list[Change] = []
    for kind, name in sorted(left.keys() | right.keys()):
        old, new = left.get((kind, name)), right.get((kind, name))
        if old == new:
            continue
        manifest = new or old
        assert manifest is not None
        labels = manifest["metadata"].get("labels") or {}
        color = labels.get("color") or labels.get("target-color")
        changes.append(Change(kind, name, _how(kind, old, new, labels), color))
    return changes


def _how(
    kind: str,
    old: Mapping[str, Any] | None,
    new: Mapping[str, Any] | None,
    labels: Mapping[str, str],
) -> How:
    if old is None:
        if kind in ("ConfigMap", "Secret"):
            return How.ROLLS  # a color's new snapshot: its pods restart to read it
        return How.RECHECKS if kind == "Job" else How.CREATES
    if new is None:
        return How.DELETES
    if kind == "Deployment":
        return How.SCALES if _without(old, "replicas") == _without(new, "replicas") else How.ROLLS
    if kind == "Service" and old["spec"].get("selector") != new["spec"].get("selector"):
        return How.MOVES_TRAFFIC if labels.get("role") is None else How.RETARGETS
    return How.UPDATES


def _without(deployment: Mapping[str, Any], field: str) -> dict[str, Any]:
    spec = {k: v for k, v in deployment["spec"].items() if k != field}
    return {**deployment, "spec": spec}


def resource_changes(before: program.Render, after: program.Render) -> list[Change]:
    """Resources other than Kubernetes objects (images, above all) created or deleted."""
    old = {r.urn: r for r in before.resources if not is_kubernetes_object(r)}
    new = {r.urn: r for r in after.resources if not is_kubernetes_object(r)}
    changes: list[Change] = []
    for urn in sorted(old.keys() ^ new.keys()):
        r = new.get(urn) or old[urn]
        if r.custom:
            how = How.CREATES if urn in new else How.DELETES
            changes.append(Change(r.type.split(":")[-1], r.name, how, None))
    return changes


def pauses(before: program.Render, after: program.Render) -> list[Change]:
    """The pause after a cutover, when the color traffic leaves changes and it waits at all."""
    old = {r.name: r.inputs for r in before.resources if _is_pause(r.type)}
    changes: list[Change] = []
    for r in after.resources:
        if not _is_pause(r.type):
            continue
        if old.get(r.name, {}).get("active_color") != r.inputs.get("active_color"):
            seconds = int(r.inputs.get("seconds") or 0)
            if seconds:
                changes.append(Change("Pause", r.name, How.WAITS, None, seconds))
    return changes


def _is_pause(resource_type: str) -> bool:
    return "ScaleDownDelay" in resource_type

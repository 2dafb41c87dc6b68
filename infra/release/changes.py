"""What a step changes: the two renders of the program (the stack file before the step, its images
as deployed, and after it) compared resource by resource, as ``pulumi up`` would change them.

Every resource the program registers is compared. The Kubernetes objects by kind and name, as
they would be applied (an auto-named ConfigMap or Secret, or a smoke Job, changes its name when
its content does: it shows as the new one and the one it replaces). Everything else (GCP
resources, image builds, dynamic resources, providers) by URN and inputs, secrets redacted; an
image build by the digest it gets too. The pause after a cutover (``ScaleDownDelay``) waits when
the color traffic leaves changes.

Each change names the app it belongs to (the ``BlueGreenApp`` above it; ``None``: the stack's
own, such as the cluster, the registry or a provider) and its color, so that a step can allow
exactly what it may change (:mod:`infra.release.steps`).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from infra.offline import mocks, program
from infra.offline.program import canonical, is_kubernetes_object

#: The component every object of one app sits under; its name is the app's.
APP_COMPONENT = "gke-bluegreen:infra:BlueGreenApp"
#: The type of an image build.
IMAGE = "docker:index/image:Image"


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
    REBUILDS = "rebuilds"
    """An image is built again: its sources or build inputs changed."""
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
    """The Kubernetes kind (``Deployment``), ``Image``, ``Pause``, ``Provider``, or the GCP
    resource type (``GCP Cluster``)."""
    name: str
    how: How
    color: str | None
    """The color it belongs to, if any."""
    seconds: int = 0
    """How long it waits (:attr:`How.WAITS` only)."""
    app: str | None = None
    """The app it belongs to; ``None``: the stack's own (cluster, registry, providers, the
    smoke client's image)."""
    runs: frozenset[tuple[str, str]] = frozenset()
    """For an image: the (app, color) pairs whose Deployment runs it (after the step; before
    it, for an image the step deletes)."""
    urn: str = ""
    """Its URN, for a resource that is not a Kubernetes object."""

    def line(self) -> str:
        """``  rolls          Deployment webserver-green (green)``."""
        how = f"{self.how} {self.seconds}s" if self.how is How.WAITS else str(self.how)
        return f"  {how:<14} {self.what()}"

    def what(self) -> str:
        """``Deployment webserver-green (green)``, for a sentence."""
        return f"{self.kind} {self.name}" + (f" ({self.color})" if self.color else "")


def diff(before: program.Render, after: program.Render) -> list[Change]:
    """Everything ``pulumi up`` would change between two renders."""
    return [*kubernetes_changes(before, after), *resource_changes(before, after)]


# --------------------------------------------------------------------------- ownership


def _owners(render: program.Render) -> dict[str, str]:
    """The app each resource belongs to, by URN: the ``BlueGreenApp`` it sits under."""
    by_urn = {r.urn: r for r in render.resources}
    owners: dict[str, str] = {}
    for r in render.resources:
        node: mocks.Registered | None = r
        while node is not None and node.type != APP_COMPONENT:
            node = by_urn.get(node.parent or "")
        if node is not None:
            owners[r.urn] = node.name
    return owners


def _runners(render: program.Render) -> dict[str, set[tuple[str, str]]]:
    """Who runs each image reference: the (app, color) of every Deployment's containers."""
    runners: dict[str, set[tuple[str, str]]] = {}
    for m in render.manifests():
        if m["kind"] != "Deployment":
            continue
        labels = m["metadata"].get("labels") or {}
        template = (m.get("spec") or {}).get("template") or {}
        for container in (template.get("spec") or {}).get("containers") or []:
            image = container.get("image")
            app, color = labels.get("app"), labels.get("color")
            if isinstance(image, str) and isinstance(app, str) and isinstance(color, str):
                runners.setdefault(image, set()).add((app, color))
    return runners


# --------------------------------------------------------------------------- Kubernetes objects


def kubernetes_changes(before: program.Render, after: program.Render) -> list[Change]:
    """The Kubernetes objects that differ, object by object (the manifests pulumi would apply). A
    changed Job or auto-named ConfigMap/Secret is a new name: it shows as created (the new one)
    and deleted (the one it replaces)."""
    left, right = dict(_objects(before)), dict(_objects(after))
    changes: list[Change] = []
    for key in sorted(left.keys() | right.keys()):
        old, new = left.get(key), right.get(key)
        if old == new:
            continue
        manifest, app = new or old  # type: ignore[misc]
        kind, name = key
        labels = manifest["metadata"].get("labels") or {}
        color = labels.get("color") or labels.get("target-color")
        how = _how(kind, old[0] if old else None, new[0] if new else None, labels)
        changes.append(Change(kind, name, how, color, app=app))
    return changes


def _objects(
    render: program.Render,
) -> Iterator[tuple[tuple[str, str], tuple[dict[str, Any], str | None]]]:
    owners = _owners(render)
    for r in render.resources:
        if is_kubernetes_object(r):
            m = program.manifest(r)
            yield (m["kind"], m["metadata"]["name"]), (m, owners.get(r.urn))


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


# --------------------------------------------------------------------------- everything else


def resource_changes(before: program.Render, after: program.Render) -> list[Change]:
    """Every other resource (GCP, image builds, dynamic resources, providers) created, deleted
    or changed: by URN, inputs (secrets redacted), provider and, for an image, its digest."""
    old = {r.urn: r for r in before.resources if _compared(r)}
    new = {r.urn: r for r in after.resources if _compared(r)}
    owners = {**_owners(before), **_owners(after)}
    runners = (_runners(before), _runners(after))
    changes: list[Change] = []
    for urn in sorted(old.keys() | new.keys()):
        was, now = old.get(urn), new.get(urn)
        if was is not None and now is not None and _state(was) == _state(now):
            continue
        r = now or was
        assert r is not None
        if r.type == IMAGE:
            changes.append(_image_change(was, now, runners))
            continue
        if _is_pause(r.type):
            how, seconds = _pause(was, now)
            if how is None:
                continue
            owner = owners.get(urn)
            changes.append(Change("Pause", r.name, how, None, seconds, app=owner, urn=urn))
            continue
        how = How.CREATES if was is None else How.DELETES if now is None else How.UPDATES
        changes.append(Change(_kind(r.type), r.name, how, None, app=owners.get(urn), urn=urn))
    return changes


def _compared(r: mocks.Registered) -> bool:
    """A resource the engine creates (not a component, not a Kubernetes object)."""
    provider = r.type.startswith("pulumi:providers:")
    return (r.custom or provider) and not is_kubernetes_object(r)


def _state(r: mocks.Registered) -> Any:
    """What ``pulumi up`` compares: the inputs (secrets redacted) and the provider; for an image,
    also the digest its build gets."""
    return canonical(
        {
            "inputs": mocks.redact(r.inputs),
            "provider": r.provider,
            "digest": r.outputs.get("repoDigest") if r.type == IMAGE else None,
        }
    )


def _image_change(
    was: mocks.Registered | None,
    now: mocks.Registered | None,
    runners: tuple[dict[str, set[tuple[str, str]]], dict[str, set[tuple[str, str]]]],
) -> Change:
    """An image build: who runs it (after; before, for one that goes) and so whose it is."""
    r, seen = (now, runners[1]) if now is not None else (was, runners[0])
    assert r is not None
    refs = {r.outputs.get("repoDigest"), r.inputs.get("imageName")}
    runs = frozenset(pair for ref in refs if isinstance(ref, str) for pair in seen.get(ref, ()))
    apps = {app for app, _color in runs}
    how = How.CREATES if was is None else How.DELETES if now is None else How.REBUILDS
    app = apps.pop() if len(apps) == 1 else None
    return Change("Image", r.name, how, None, app=app, runs=runs, urn=r.urn)


def _pause(was: mocks.Registered | None, now: mocks.Registered | None) -> tuple[How | None, int]:
    """A pause that changes: it waits when the color traffic leaves changes and it has seconds
    to wait; a cutover without a pause (0 s) changes nothing worth a line."""
    if was is None or now is None:
        return (How.CREATES if was is None else How.DELETES), 0
    seconds = int(now.inputs.get("seconds") or 0)
    moved = was.inputs.get("active_color") != now.inputs.get("active_color")
    if moved and seconds:
        return How.WAITS, seconds
    if moved and was.inputs.get("seconds") == now.inputs.get("seconds"):
        return None, 0
    return How.UPDATES, 0


def pauses(before: program.Render, after: program.Render) -> list[Change]:
    """The pauses after a cutover, from :func:`resource_changes`."""
    return [c for c in resource_changes(before, after) if c.kind == "Pause"]


def _is_pause(resource_type: str) -> bool:
    return "ScaleDownDelay" in resource_type


def _kind(resource_type: str) -> str:
    """A resource type as a user reads it: ``GCP Cluster``, ``Provider``, ``ObjectAclGrant``."""
    package, _, rest = resource_type.partition(":")
    last = rest.rsplit(":", 1)[-1]
    if package == "pulumi" and rest.startswith("providers:"):
        return "Provider"
    named = {"gcp": "GCP", "docker": "Docker", "kubernetes": "Kubernetes"}.get(package)
    return f"{named} {last}" if named else last

"""The steps of a release, each planned as an edit of the stack file and what it may change:
:func:`plan_start`, :func:`plan_promote`, :func:`plan_rollback` and :func:`plan_finish`.

A plan reads the stack file and the program's settings, refuses a step out of order, and edits a
copy of the document; nothing is written until :func:`infra.release.run.run_step` has shown what
``pulumi up`` will change and found nothing the step may not change. Refusals speak of the
candidate, the live color, the idle color and the previous one, and say what to run instead.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from ruamel.yaml.comments import CommentedMap

from infra import cutover
from infra.config import keypath
from infra.config import record as record_section
from infra.paths import ROOT
from infra.release import pins
from infra.release.changes import Change, How
from infra.release.deployed import (
    DIGEST_REF,
    DeployedImages,
    Outputs,
    check_outputs,
    deployed_app,
    deployed_images,
    live_image,
)
from infra.release.document import APPS_KEY, StackFile, child
from infra.release.errors import ReleaseError
from infra.release.rendering import app_of, settings_of
from infra.settings import AppSettings, Color, ColorPin, ConfigError, GkeTarget, Settings

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


def _images(settings: Settings, outputs: Outputs | None) -> DeployedImages | None:
    if outputs is None:
        return None
    check_outputs(settings, outputs)
    return deployed_images(settings, outputs)


# --------------------------------------------------------------------------- start


def plan_start(
    stack: str,
    app_name: str,
    outputs: Outputs,
    *,
    source: str | None = None,
    image: str | None = None,
    sets: Sequence[str] = (),
) -> Step:
    """Pins the live color to what it runs (by digest from ``outputs``, its config and secret
    values as its own copies) unless a release recorded it already, points the idle color at
    ``source``, ``image`` and ``sets``, and records the idle color as the candidate."""
    file = StackFile(stack)
    settings = settings_of(stack)
    app = app_of(settings, app_name)
    record = app.release
    live, idle = app.active_color, cutover.idle_color(app)
    if record.previous is not None:
        raise ReleaseError(
            f"{app_name} was promoted and not finished: {live} is live and {record.previous.color} "
            f"is kept for a rollback. Run `finish` (keep {live}) or `rollback` (back to "
            f"{record.previous.color}) first, then start the next release"
        )
    for item in sets:
        _check_set(item)
    if image is not None:
        _check_pinned(settings, "--image", image)
    if source is not None:
        source = _repository_path(source)
    images = _images(settings, outputs)
    _check_served(stack, outputs, app)
    node = file.app(app_name)
    if record.live is None:
        pins.record(
            node,
            "live",
            pins.pin_color(file, app, live, live_image(stack, outputs, app_name, live)),
        )
    if app.secret is not None:
        # The candidate reads the app-level values (a rotated secret reaches it, and only it).
        pins.forget_own_secrets(file, app_name, idle)
    entry = child(node, "colors", idle)
    if source is not None:
        entry.pop("image", None)
        entry["source"] = source
    elif image is not None:
        entry.pop("source", None)
        entry["image"] = image
    for item in sets:
        file.set(item)
    if node.get("idleReplicas") == 0:
        node["idleReplicas"] = 1  # a candidate with no pods has nothing to check
    candidate = _app_after_start(file, app, idle)
    pinned = candidate.colors[idle].image
    if pinned is not None and pinned != app.colors[idle].image:
        _check_pinned(settings, f"apps.{app_name}.colors.{idle}.image", pinned)
    pins.record(node, "candidate", record_section.pin_entry(cutover.pin_of(candidate, idle)))

    return Step(
        "start",
        stack,
        app_name,
        file,
        f"start: {live} stays live (pinned); {idle} becomes the candidate "
        f"({cutover.runs(candidate, idle)})",
        start_refusal(app_name, live, idle, lives(settings)),
        images,
    )


def _check_set(item: str) -> None:
    """A ``--set`` may not write the release record: it is what protects the live color."""
    try:
        shown, key, segments, _value = keypath.assignment(item)
    except keypath.KeyPathError as err:
        raise ReleaseError(str(err)) from None
    if key == APPS_KEY and len(segments) >= 2 and segments[1] == "release":
        raise ReleaseError(
            f"--set {shown}: apps.<app>.release is the release record, written by the steps "
            "only (allowLiveChange lifts the live color's protection: set it by hand in the "
            "stack file, reviewed, never as part of a release step)"
        )


def _check_pinned(settings: Settings, where: str, image: str) -> None:
    """On GKE a pinned image is by digest: a tag can be moved to other contents under a color
    that runs it. The local platform's images are content tags on the local engine."""
    if isinstance(settings.target, GkeTarget) and not DIGEST_REF.fullmatch(image):
        raise ReleaseError(
            f"{where} {image}: stack {settings.stack} deploys to GKE, where a pinned image must "
            "be by digest (registry/name@sha256:<64 hex>); a tag is mutable: pass the digest it "
            "points at now"
        )


def _repository_path(source: str) -> str:
    """``--source`` as the stack file keeps it: relative to the repository, whoever typed it."""
    path = Path(source)
    if not path.is_absolute():
        return source
    root = ROOT.resolve()
    try:
        return path.resolve().relative_to(root).as_posix()
    except (OSError, ValueError):
        raise ReleaseError(
            f"--source {source}: outside the repository ({root}); give a folder under apps/, "
            "e.g. apps/imageview/green"
        ) from None


def _whose(change: Change, lives: Mapping[str, Color]) -> str:
    """The object a change touches, for a sentence: ``the stack's GCP Cluster gke-cluster
    (urn:…)``, ``node-app's live color blue (Deployment node-app-blue (blue) rolls)``."""
    if change.app is None:
        return f"the stack's {change.what()} ({change.how}; {change.urn or 'no URN'})"
    if change.color is None:
        return f"{change.app}'s {change.what()} ({change.how})"
    role = "live" if lives.get(change.app) == change.color else "idle"
    return f"{change.app}'s {role} color {change.color} ({change.what()} {change.how})"


def start_refusal(
    app: str, live: Color, idle: Color, lives: Mapping[str, Color] | None = None
) -> Refusal:
    """A start changes only the idle color of its app (its objects, and the images only it
    runs), and moves no traffic."""
    known = {app: live, **(lives or {})}

    def refusal(change: Change) -> str | None:
        if change.how in (How.MOVES_TRAFFIC, How.RETARGETS):
            return (
                f"it would move traffic ({change.what()}), and only `promote` does, once "
                f"`pulumi up` has checked the candidate {idle}; leave activeColor out of --set"
            )
        if change.app != app:
            return (
                f"it would change {_whose(change, known)}, and a start of {app} changes only "
                f"{app}'s idle color {idle}: leave that out of the start (another app is released "
                "with its own start, the stack itself with a reviewed `pulumi up`); if the stack "
                "file or apps/ holds it already, deploy or undo it first"
            )
        if change.kind == "Image":
            return _start_image(change, app, idle)
        if change.color == live:
            return (
                f"it would change the live color {live} ({change.what()} {change.how}); a start "
                f"changes only the idle color {idle}: set the change under "
                f"apps.{app}.colors.{idle}"
            )
        if change.color is None:
            return (
                f"it would change {change.what()} ({change.how}), which both colors of {app} "
                f"share; a start changes only the idle color {idle}: set the change under "
                f"apps.{app}.colors.{idle}, or leave it out"
            )
        return None

    return refusal


def _start_image(change: Change, app: str, idle: Color) -> str | None:
    """A start may build what only its idle color runs, and drop a build nothing of its app runs
    any more (the live color, pinned, runs its digest)."""
    mine = change.runs <= {(app, idle)}
    dropped = change.how is How.DELETES and all(a == app for a, _ in change.runs)
    if mine or dropped:
        return None
    runners = " and ".join(sorted(c for _a, c in change.runs)) or "no color"
    return (
        f"it would change {change.what()} ({change.how}), which {runners} of {app} run; a start "
        f"changes only the idle color {idle}: give it its own --source or --image"
    )


def _check_served(stack: str, outputs: Outputs, app: AppSettings) -> None:
    deployed = deployed_app(outputs, app.name)
    served = deployed.get("active_color") if deployed is not None else None
    if served is not None and served != app.active_color:
        raise ReleaseError(
            f"the cluster serves {served}, but the stack file says {app.active_color} is live: a "
            f"step was applied from a stack file that is not this one. Merge its release PR (or "
            f"pull), check with `status --stack {stack} --outputs FILE`, then start again"
        )


def _app_after_start(file: StackFile, app: AppSettings, idle: Color) -> AppSettings:
    """The app as the edited file gives it; a refusal says how the edit touches the live color."""
    try:
        return settings_of(file.stack, file.text()).apps[app.name]
    except ConfigError as err:
        refused = err
    # What the edit does, with the live color's rule lifted: the refusal in release terms.
    release = child(file.app(app.name), "release")
    saved = release.get("allowLiveChange")
    release["allowLiveChange"] = True
    try:
        lifted: AppSettings | None = settings_of(file.stack, file.text()).apps[app.name]
    except ConfigError:
        lifted = None
    finally:
        if saved is None:
            release.pop("allowLiveChange")
        else:
            release["allowLiveChange"] = saved
    raise ReleaseError(_why_start_is_refused(app, idle, lifted, refused)) from None


def _why_start_is_refused(
    app: AppSettings, idle: Color, lifted: AppSettings | None, refused: ConfigError
) -> str:
    live, at = app.active_color, f"apps.{app.name}.colors.{idle}"
    pinned = lifted.release.live if lifted is not None else None
    if lifted is None or pinned is None:
        return (
            f"this start gives a config the program refuses ({refused}); correct the --set, "
            "--source or --image and run it again"
        )
    if lifted.active_color != live:
        return (
            f"this start would move traffic to {lifted.active_color} (activeColor): traffic moves "
            f"only with `promote`, once `pulumi up` has checked the candidate {idle}; leave "
            "activeColor out of --set"
        )
    now = cutover.pin_of(lifted, live)
    if now.image != pinned.image:
        return (
            f"this start would change the image of the live color {live} too; a start changes "
            f"only the idle color {idle}: use --source or --image, or --set {at}.image=REF"
        )
    if now.config != pinned.config:
        return (
            f"this start would change the live color {live} too (its env, ConfigMaps, resources, "
            f"ports or probes); a start changes only the idle color {idle}: set env and ConfigMaps "
            f"under {at} (e.g. --set {at}.env.NAME=VALUE); what both colors share (resources, "
            "ports, probes) cannot change in a release"
        )
    return f"this start gives a config the program refuses ({refused}); correct it and run it again"


# --------------------------------------------------------------------------- promote, rollback


def plan_promote(stack: str, app_name: str, outputs: Outputs | None = None) -> Step:
    """Moves traffic to the candidate, unchanged since ``start``; the live color becomes the
    previous one, kept as it is for a rollback until ``finish``. A promote the stack file
    records but the cluster does not serve yet (``outputs``: its ``pulumi up`` did not finish)
    is taken again as it is."""
    file = StackFile(stack)
    settings = settings_of(stack)
    app = app_of(settings, app_name)
    record = app.release
    images = _images(settings, outputs)
    if record.live is None:
        raise ReleaseError(
            f"{app_name} has no release to promote: `start` one first (it makes the idle color "
            "the candidate)"
        )
    if record.previous is not None:
        served = _served(outputs, app_name)
        if served == record.previous.color:
            return _promote_again(file, settings, app, images)
        unknown = (
            ""
            if served is not None
            else f"; if the last promote's `pulumi up` did not finish, run `promote --apply` "
            f"(it reads what the cluster serves) or `pulumi up --stack {stack}`"
        )
        raise ReleaseError(
            f"{app_name}'s candidate {record.live.color} is live already: `finish` to keep it, "
            f"or `rollback` to go back to the previous color {record.previous.color}{unknown}"
        )
    candidate = record.candidate
    if candidate is None:
        raise ReleaseError(
            f"{app_name} has no candidate to promote ({record.live.color} is live, and no release "
            "was started since the last one ended): `start` one first"
        )
    _check_unchanged(app, candidate)
    node = file.app(app_name)
    _promote(file, app, node, record.live, candidate)
    return Step(
        "promote",
        stack,
        app_name,
        file,
        f"promote: traffic moves to {candidate.color} ({candidate.image}); "
        f"{record.live.color} is kept for a rollback",
        traffic_only("promote", stack, app_name, lives(settings)),
        images,
    )


def _promote(
    file: StackFile, app: AppSettings, node: CommentedMap, live: ColorPin, candidate: ColorPin
) -> None:
    if app.secret is not None:
        # The new live color keeps the values it was checked with, whatever comes next.
        pins.pin_secrets(file, app, candidate.color)
    pins.record(node, "previous", record_section.pin_entry(live))
    pins.record(node, "live", record_section.pin_entry(candidate))
    pins.record(node, "candidate", None)
    node["activeColor"] = candidate.color


def _served(outputs: Outputs | None, app: str) -> str | None:
    """The color the cluster serves, from the outputs; ``None`` when unknown."""
    entry = deployed_app(outputs or {}, app)
    served = entry.get("active_color") if entry is not None else None
    return served if isinstance(served, str) else None


def _promote_again(
    file: StackFile, settings: Settings, app: AppSettings, images: DeployedImages | None
) -> Step:
    """The promote the stack file records, which the cluster does not serve yet: nothing to
    edit; its ``before`` is the file with that promote undone (what is deployed)."""
    record = app.release
    assert record.live is not None and record.previous is not None
    deployed = StackFile(file.stack)
    node = deployed.app(app.name)
    pins.record(node, "live", record_section.pin_entry(record.previous))
    pins.record(node, "candidate", record_section.pin_entry(record.live))
    pins.record(node, "previous", None)
    node["activeColor"] = record.previous.color
    return Step(
        "promote",
        file.stack,
        app.name,
        file,
        f"promote (again): the stack file records the promote to {record.live.color}, and the "
        f"cluster still serves {record.previous.color} (its `pulumi up` did not finish): "
        f"traffic moves to {record.live.color} ({record.live.image})",
        traffic_only("promote", file.stack, app.name, lives(settings)),
        images,
        before=deployed.text(),
    )


def _check_unchanged(app: AppSettings, candidate: ColorPin) -> None:
    """The candidate must run what ``start`` recorded: what ``pulumi up`` checked."""
    now = cutover.pin_of(app, candidate.color)
    if now.image != candidate.image:
        what = f"its image is now {now.image}, it was started with {candidate.image}"
    elif now.config != candidate.config:
        what = "its env, ConfigMaps, resources, ports or probes changed"
    else:
        return
    raise ReleaseError(
        f"the candidate {candidate.color} changed since `start` ({what}), so it is not what "
        f"`pulumi up` checked: run `start` again to make it the candidate as it is now, "
        "`pulumi up`, then promote"
    )


def plan_rollback(stack: str, app_name: str, outputs: Outputs | None = None) -> Step:
    """Moves traffic back: to the previous color (before ``finish``), or after ``finish`` to the
    idle color while it still runs the release before. Either way the color traffic leaves
    becomes the candidate: ``promote`` re-releases it, and a second rollback, which would move
    traffic back to what was just rolled back from, is refused."""
    file = StackFile(stack)
    settings = settings_of(stack)
    app = app_of(settings, app_name)
    images = _images(settings, outputs)
    record = app.release
    if record.live is None:
        raise ReleaseError(
            f"{app_name} has no recorded release, so there is nothing to roll back to; `status` "
            "shows where it stands"
        )
    node = file.app(app_name)
    if record.previous is not None:
        target = record.previous
    else:
        idle = cutover.idle_color(app)
        if record.candidate is not None:
            raise ReleaseError(
                f"nothing to roll back: traffic is on {record.live.color}, and {idle} is the "
                "candidate (of a release not promoted yet, or the one just rolled back from, "
                f"which a second rollback would bring back): `promote` it to send traffic to "
                f"{idle} again, or `start` a new release"
            )
        if app.colors[idle].image is None:
            raise ReleaseError(
                f"nothing to roll back to: the idle color {idle} no longer runs the release "
                "before (it builds from source); `start` a release of the version to go back to"
            )
        target = cutover.pin_of(app, idle)
    pins.record(node, "candidate", record_section.pin_entry(record.live))
    pins.record(node, "previous", None)
    pins.record(node, "live", record_section.pin_entry(target))
    node["activeColor"] = target.color
    return Step(
        "rollback",
        stack,
        app_name,
        file,
        f"rollback: traffic moves back to {target.color} ({target.image}); {record.live.color} "
        "becomes the candidate again",
        traffic_only("rollback", stack, app_name, lives(settings)),
        images,
    )


def traffic_only(
    step: str, stack: str, app: str | None = None, lives: Mapping[str, Color] | None = None
) -> Refusal:
    """A promote or rollback moves its app's traffic: its Services, the pause before the color
    traffic leaves scales down, and the colors' replicas."""

    def refusal(change: Change) -> str | None:
        if change.app == app and (
            change.kind in ("Service", "Pause")
            or (change.kind == "Deployment" and change.how is How.SCALES)
        ):
            return None
        return (
            f"it would also change {_whose(change, lives or {})}, and a {step} only moves "
            f"traffic (the app's Services, the pause, its colors' replicas); the stack file holds "
            f"another change: apply it first (`pulumi up --stack {stack}`) or undo it, then "
            f"{step} again"
        )

    return refusal


# --------------------------------------------------------------------------- finish


def plan_finish(stack: str, app_name: str, outputs: Outputs, idle_replicas: int | None) -> Step:
    """Pins the new live color by digest (from ``outputs``), forgets the previous one and scales
    it to ``idle_replicas`` (default: the app's ``idleReplicas``, else 1)."""
    file = StackFile(stack)
    settings = settings_of(stack)
    app = app_of(settings, app_name)
    record = app.release
    if record.previous is None or record.live is None:
        if record.candidate is not None:
            raise ReleaseError(
                f"the candidate {record.candidate.color} of {app_name} is not promoted yet: "
                "`promote` it first, then finish"
            )
        raise ReleaseError(
            f"{app_name} has nothing to finish: no release is under way; `start` one first"
        )
    images = _images(settings, outputs)
    live, old = record.live.color, record.previous.color
    deployed = deployed_app(outputs, app_name)
    if deployed is None or deployed.get("active_color") != live:
        raise ReleaseError(
            f"the cluster does not serve the new live color {live} yet: apply the promote first "
            f"(`promote --apply`, or `pulumi up --stack {stack}`), then finish"
        )
    node = file.app(app_name)
    image = app.colors[live].image or live_image(stack, outputs, app_name, live)
    pins.record(node, "live", pins.pin_color(file, app, live, image))
    pins.record(node, "previous", None)
    current = node.get("idleReplicas")
    node["idleReplicas"] = (
        idle_replicas if idle_replicas is not None else (current if current is not None else 1)
    )

    return Step(
        "finish",
        stack,
        app_name,
        file,
        f"finish: {live} pinned ({image}); {old} freed and scaled to {node['idleReplicas']}",
        finish_refusal(stack, live, old, app_name, lives(settings)),
        images,
    )


def finish_refusal(
    stack: str,
    live: Color,
    old: Color,
    app: str | None = None,
    lives: Mapping[str, Color] | None = None,
) -> Refusal:
    """A finish scales the previous color (and with it the pause before it scales down) and
    drops the image builds nothing runs any more."""

    def refusal(change: Change) -> str | None:
        if change.app == app and (
            (change.kind == "Deployment" and change.how is How.SCALES and change.color == old)
            or change.kind == "Pause"
            or (change.kind == "Image" and change.how is How.DELETES)
        ):
            return None
        return (
            f"it would also change {_whose(change, lives or {})}, and a finish only pins the "
            f"live color {live} and scales the previous color {old} down; the stack file holds "
            f"another change: apply it first (`pulumi up --stack {stack}`) or undo it"
        )

    return refusal

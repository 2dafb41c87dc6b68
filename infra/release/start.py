"""`start`: pin the live color to what it runs, and make the idle color the candidate."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from infra import cutover
from infra.config import keypath
from infra.config import record as record_section
from infra.paths import ROOT
from infra.release import pins
from infra.release.changes import Change, How
from infra.release.deployed import (
    DIGEST_REF,
    Outputs,
    deployed_app,
    live_image,
)
from infra.release.document import APPS_KEY, StackFile, child
from infra.release.errors import ReleaseError
from infra.release.rendering import app_of, settings_of
from infra.release.steps import Refusal, Step, images_of, lives, whose
from infra.settings import AppSettings, Color, ConfigError, GkeTarget, Settings


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
    if record.weight and record.candidate is not None:
        raise ReleaseError(
            f"{app_name}'s candidate {record.candidate.color} takes {record.weight} % of the "
            f"requests: a start would change what they reach. `abort` first (back to 0 %), "
            "then start the next release"
        )
    for item in sets:
        _check_set(item)
    if image is not None:
        _check_pinned(settings, "--image", image)
    if source is not None:
        source = _repository_path(source)
    images = images_of(settings, outputs)
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
                f"it would change {whose(change, known)}, and a start of {app} changes only "
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

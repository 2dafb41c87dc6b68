"""The steps of a release, each planned as an edit of the stack file and what it may change:
:func:`plan_start`, :func:`plan_promote`, :func:`plan_rollback` and :func:`plan_finish`.

A plan reads the stack file and the program's settings, refuses a step out of order, and edits a
copy of the document; nothing is written until :func:`infra.release.run.run_step` has shown what
``pulumi up`` will change and found nothing the step may not change. Refusals speak of the
candidate, the live color, the idle color and the previous one, and say what to run instead.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from infra import cutover
from infra.config import apps as apps_section
from infra.release import pins
from infra.release.changes import Change, How
from infra.release.deployed import Outputs, deployed_app, live_image
from infra.release.document import StackFile, child
from infra.release.errors import ReleaseError
from infra.release.rendering import app_of, settings_of
from infra.settings import AppSettings, Color, ColorPin, ConfigError

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
    app = app_of(settings_of(stack), app_name)
    record = app.release
    live, idle = app.active_color, cutover.idle_color(app)
    if record.previous is not None:
        raise ReleaseError(
            f"{app_name} was promoted and not finished: {live} is live and {record.previous.color} "
            f"is kept for a rollback. Run `finish` (keep {live}) or `rollback` (back to "
            f"{record.previous.color}) first, then start the next release"
        )
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
    pins.record(node, "candidate", apps_section.pin_entry(cutover.pin_of(candidate, idle)))

    return Step(
        "start",
        stack,
        app_name,
        file,
        f"start: {live} stays live (pinned); {idle} becomes the candidate "
        f"({cutover.runs(candidate, idle)})",
        start_refusal(app_name, live, idle),
    )


def start_refusal(app: str, live: Color, idle: Color) -> Refusal:
    """A start changes only the idle color, and moves no traffic."""

    def refusal(change: Change) -> str | None:
        if change.how is How.MOVES_TRAFFIC:
            return (
                f"it would move traffic ({change.what()}), and only `promote` does, once "
                f"`pulumi up` has checked the candidate {idle}; leave activeColor out of --set"
            )
        if change.color == live:
            return (
                f"it would change the live color {live} ({change.what()} {change.how}); a start "
                f"changes only the idle color {idle}: set the change under "
                f"apps.{app}.colors.{idle}"
            )
        return None

    return refusal


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


def plan_promote(stack: str, app_name: str) -> Step:
    """Moves traffic to the candidate, unchanged since ``start``; the live color becomes the
    previous one, kept as it is for a rollback until ``finish``."""
    file = StackFile(stack)
    app = app_of(settings_of(stack), app_name)
    record = app.release
    if record.live is None:
        raise ReleaseError(
            f"{app_name} has no release to promote: `start` one first (it makes the idle color "
            "the candidate)"
        )
    if record.previous is not None:
        raise ReleaseError(
            f"{app_name}'s candidate {record.live.color} is live already: `finish` to keep it, "
            f"or `rollback` to go back to the previous color {record.previous.color}"
        )
    candidate = record.candidate
    if candidate is None:
        raise ReleaseError(
            f"{app_name} has no candidate to promote ({record.live.color} is live, and no release "
            "was started since the last one ended): `start` one first"
        )
    _check_unchanged(app, candidate)
    node = file.app(app_name)
    if app.secret is not None:
        # The new live color keeps the values it was checked with, whatever comes next.
        pins.pin_secrets(file, app, candidate.color)
    pins.record(node, "previous", apps_section.pin_entry(record.live))
    pins.record(node, "live", apps_section.pin_entry(candidate))
    pins.record(node, "candidate", None)
    node["activeColor"] = candidate.color
    return Step(
        "promote",
        stack,
        app_name,
        file,
        f"promote: traffic moves to {candidate.color} ({candidate.image}); "
        f"{record.live.color} is kept for a rollback",
        traffic_only("promote", stack),
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


def plan_rollback(stack: str, app_name: str) -> Step:
    """Moves traffic back: to the previous color (before ``finish``; the color traffic leaves
    becomes the candidate again, so a second promote re-releases it), or after ``finish`` to the
    idle color while it still runs the release before."""
    file = StackFile(stack)
    app = app_of(settings_of(stack), app_name)
    record = app.release
    if record.live is None:
        raise ReleaseError(
            f"{app_name} has no recorded release, so there is nothing to roll back to; `status` "
            "shows where it stands"
        )
    node = file.app(app_name)
    if record.previous is not None:
        target = record.previous
        pins.record(node, "candidate", apps_section.pin_entry(record.live))
    else:
        idle = cutover.idle_color(app)
        if record.candidate is not None:
            raise ReleaseError(
                f"nothing to roll back: traffic is still on {record.live.color}, and {idle} is "
                "the candidate of a release not promoted yet. `promote` it, or `start` again to "
                "point it elsewhere"
            )
        if app.colors[idle].image is None:
            raise ReleaseError(
                f"nothing to roll back to: the idle color {idle} no longer runs the release "
                "before (it builds from source); `start` a release of the version to go back to"
            )
        target = cutover.pin_of(app, idle)
        pins.record(node, "candidate", None)
    pins.record(node, "previous", None)
    pins.record(node, "live", apps_section.pin_entry(target))
    node["activeColor"] = target.color
    return Step(
        "rollback",
        stack,
        app_name,
        file,
        f"rollback: traffic moves back to {target.color} ({target.image})",
        traffic_only("rollback", stack),
    )


def traffic_only(step: str, stack: str) -> Refusal:
    """A promote or rollback moves traffic (and scales, and pauses before scaling down)."""

    def refusal(change: Change) -> str | None:
        if change.how in (How.MOVES_TRAFFIC, How.RETARGETS, How.SCALES, How.UPDATES, How.WAITS):
            return None
        return (
            f"it would also change {change.what()} ({change.how}), and a {step} only moves "
            f"traffic; the stack file holds another change: apply it first (`pulumi up --stack "
            f"{stack}`) or undo it, then {step} again"
        )

    return refusal


# --------------------------------------------------------------------------- finish


def plan_finish(stack: str, app_name: str, outputs: Outputs, idle_replicas: int | None) -> Step:
    """Pins the new live color by digest (from ``outputs``), forgets the previous one and scales
    it to ``idle_replicas`` (default: the app's ``idleReplicas``, else 1)."""
    file = StackFile(stack)
    app = app_of(settings_of(stack), app_name)
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
    live, old = record.live.color, record.previous.color
    deployed = deployed_app(outputs, app_name)
    if deployed is None or deployed.get("active_color") != live:
        raise ReleaseError(
            f"the cluster does not serve the new live color {live} yet: apply the promote first "
            f"(`pulumi up --stack {stack}`), then finish"
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
        finish_refusal(stack, live, old),
    )


def finish_refusal(stack: str, live: Color, old: Color) -> Refusal:
    """A finish scales the previous color and drops the images nothing runs any more."""

    def refusal(change: Change) -> str | None:
        if change.how in (How.SCALES, How.UPDATES) and change.color in (old, None):
            return None
        if change.kind == "Image" and change.how is How.DELETES:
            return None
        return (
            f"it would also change {change.what()} ({change.how}), and a finish only pins the "
            f"live color {live} and scales the previous color {old} down; the stack file holds "
            f"another change: apply it first (`pulumi up --stack {stack}`) or undo it"
        )

    return refusal

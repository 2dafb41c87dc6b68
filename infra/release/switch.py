"""`promote` and `rollback`: move traffic between the candidate and the live color (the
previous one), and nothing else."""

from __future__ import annotations

from collections.abc import Mapping

from ruamel.yaml.comments import CommentedMap

from infra import cutover
from infra.config import record as record_section
from infra.release import pins
from infra.release.changes import Change, How
from infra.release.deployed import (
    DeployedImages,
    Outputs,
    deployed_app,
)
from infra.release.document import StackFile
from infra.release.errors import ReleaseError
from infra.release.rendering import app_of, settings_of
from infra.release.steps import Refusal, Step, images_of, lives, whose
from infra.settings import AppSettings, Color, ColorPin, Settings


def plan_promote(stack: str, app_name: str, outputs: Outputs | None = None) -> Step:
    """Moves traffic to the candidate, unchanged since ``start``; the live color becomes the
    previous one, kept as it is for a rollback until ``finish``. A promote the stack file
    records but the cluster does not serve yet (``outputs``: its ``pulumi up`` did not finish)
    is taken again as it is."""
    file = StackFile(stack)
    settings = settings_of(stack)
    app = app_of(settings, app_name)
    record = app.release
    images = images_of(settings, outputs)
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
    check_unchanged(app, candidate)
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
    # A canary's share ends with the release: the new live color takes every request.
    pins.record(node, "weight", None)
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


def check_unchanged(app: AppSettings, candidate: ColorPin) -> None:
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
    images = images_of(settings, outputs)
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
    """A promote or rollback moves its app's traffic: its Services, a canary's HTTPRoute (its
    weights follow the active color), the pause before the color traffic leaves scales down, and
    the colors' replicas."""

    def refusal(change: Change) -> str | None:
        if change.app == app and (
            change.kind in ("Service", "Pause")
            or (change.kind == "HTTPRoute" and change.how is How.UPDATES)
            or (change.kind == "Deployment" and change.how is How.SCALES)
        ):
            return None
        return (
            f"it would also change {whose(change, lives or {})}, and a {step} only moves "
            f"traffic (the app's Services and route, the pause, its colors' replicas); the stack "
            f"file holds "
            f"another change: apply it first (`pulumi up --stack {stack}`) or undo it, then "
            f"{step} again"
        )

    return refusal

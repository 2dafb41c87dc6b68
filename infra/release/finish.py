"""`finish`: pin the new live color by digest and scale the previous one down."""

from __future__ import annotations

from collections.abc import Mapping

from infra.release import pins
from infra.release.changes import Change, How
from infra.release.deployed import (
    Outputs,
    deployed_app,
    live_image,
)
from infra.release.document import StackFile
from infra.release.errors import ReleaseError
from infra.release.rendering import app_of, settings_of
from infra.release.steps import Refusal, Step, images_of, lives, whose
from infra.settings import Color


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
    images = images_of(settings, outputs)
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
            f"it would also change {whose(change, lives or {})}, and a finish only pins the "
            f"live color {live} and scales the previous color {old} down; the stack file holds "
            f"another change: apply it first (`pulumi up --stack {stack}`) or undo it"
        )

    return refusal

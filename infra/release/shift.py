"""`shift` and `abort`: a canary app's candidate gets a share of the requests
(``apps.<app>.release.weight``), or none again. Either changes the app's HTTPRoute and nothing
else: the weights are the route's alone (:func:`infra.cutover.weights`), both colors run at full
replicas whatever the weight, and the candidate stays recorded, so a later shift, a promote or a
new start may follow an abort."""

from __future__ import annotations

from collections.abc import Mapping

from infra import naming
from infra.release import deployed
from infra.release.changes import Change, How
from infra.release.deployed import Outputs
from infra.release.document import StackFile, child
from infra.release.errors import ReleaseError
from infra.release.rendering import app_of, settings_of
from infra.release.steps import Refusal, Step, images_of, lives, whose
from infra.release.switch import check_unchanged
from infra.settings import AppSettings, Color, ColorPin

#: The weights `shift --weight` takes: 0 is `abort`, 100 is `promote`.
LOWEST, HIGHEST = 1, 99


def canary_candidate(app: AppSettings, step: str) -> ColorPin:
    """The candidate a canary step moves traffic to: the app must be a canary with a release
    started and not promoted, its candidate unchanged since ``start``."""
    if app.strategy != "canary" or app.canary is None:
        raise ReleaseError(
            f"{step} is for a canary app, and {app.name} is a blue/green app (apps.{app.name}."
            "strategy is bluegreen): it moves every request at once with `promote`"
        )
    record = app.release
    if record.previous is not None:
        raise ReleaseError(
            f"{app.name} was promoted: {app.active_color} takes every request and "
            f"{record.previous.color} is kept for a rollback; `finish` to keep it, or `rollback`"
        )
    if record.live is None or record.candidate is None:
        raise ReleaseError(
            f"{app.name} has no candidate to give a share to: `start` a release first (it makes "
            f"the idle color the candidate), then `pulumi up`"
        )
    check_unchanged(app, record.candidate)
    return record.candidate


def next_weight(app: AppSettings, plan: tuple[int, ...] | None = None) -> int:
    """The plan's next weight above the candidate's current one (may be 100: a promote)."""
    assert app.canary is not None
    steps = plan or app.canary.plan
    current = app.release.weight
    return next(w for w in steps if w > current)


def check_weight(weight: int) -> None:
    """One line naming what `--weight` takes."""
    if weight == 0:
        raise ReleaseError(
            "--weight 0: the candidate back to no share is `abort`; --weight takes 1-99"
        )
    if weight == 100:
        raise ReleaseError(
            "--weight 100: every request to the candidate is `promote` (it records the candidate "
            "as live); --weight takes 1-99"
        )
    if not LOWEST <= weight <= HIGHEST:
        raise ReleaseError(f"--weight {weight}: allowed is a whole number 1-99")


def plan_shift(
    stack: str, app_name: str, weight: int | None = None, outputs: Outputs | None = None
) -> Step:
    """The candidate's share becomes ``weight`` (the plan's next one when ``None``)."""
    if weight is not None:
        check_weight(weight)
    settings = settings_of(stack)
    app = app_of(settings, app_name)
    candidate = canary_candidate(app, "shift")
    assert app.canary is not None
    current = app.release.weight
    if weight is None:
        weight = next_weight(app)
        if weight == 100:
            raise ReleaseError(
                f"{app_name}'s candidate {candidate.color} is at {current} %, the last step of "
                f"its plan ({', '.join(map(str, app.canary.plan))}) below 100: `promote` sends "
                "it every request, or `shift --weight N` (1-99)"
            )
    file = StackFile(stack)
    set_weight(file, app_name, weight)
    return Step(
        "shift",
        stack,
        app_name,
        file,
        f"shift: {weight} % of {app_name}'s requests to the candidate {candidate.color} (was "
        f"{current} %), {100 - weight} % to the live color {app.active_color}",
        route_only("shift", stack, app_name, lives(settings)),
        images_of(settings, outputs),
    )


def plan_abort(stack: str, app_name: str, outputs: Outputs | None = None) -> Step:
    """The candidate back to weight 0; it stays recorded as the candidate."""
    settings = settings_of(stack)
    app = app_of(settings, app_name)
    candidate = canary_candidate(app, "abort")
    file = StackFile(stack)
    set_weight(file, app_name, 0)
    return Step(
        "abort",
        stack,
        app_name,
        file,
        f"abort: every request of {app_name} back to the live color {app.active_color} (the "
        f"candidate {candidate.color} had {app.release.weight} %); {candidate.color} stays the "
        "candidate",
        route_only("abort", stack, app_name, lives(settings)),
        images_of(settings, outputs),
    )


def set_weight(file: StackFile, app_name: str, weight: int) -> None:
    """``release.weight``; at 0 the key goes (0 is what an absent weight means)."""
    release = child(file.app(app_name), "release")
    if weight:
        release["weight"] = weight
    else:
        release.pop("weight", None)


def route_only(step: str, stack: str, app: str, lives: Mapping[str, Color]) -> Refusal:
    """A shift or an abort updates its app's HTTPRoute, and nothing else."""

    def refusal(change: Change) -> str | None:
        if change.app == app and change.kind == "HTTPRoute" and change.how is How.UPDATES:
            return None
        return (
            f"it would also change {whose(change, lives)}, and a {step} changes only {app}'s "
            f"HTTPRoute (its weights); the stack file holds another change: apply it first "
            f"(`pulumi up --stack {stack}`) or undo it, then {step} again"
        )

    return refusal


def check_smoke_passed(stack: str, app_name: str, step: str) -> None:
    """Refuses a share for a candidate whose smoke Job failed in the last ``pulumi up``: the
    engine takes that Job again in every update and fails it again
    (:func:`infra.release.deployed.failed_smoke_jobs`), so the route would never change."""
    app = app_of(settings_of(stack), app_name)
    candidate = app.release.candidate
    if candidate is None:
        return
    failed = deployed.failed_smoke_jobs(stack).get(
        naming.smoke_job_resource(app.name, candidate.color)
    )
    if failed is not None:
        raise ReleaseError(
            f"{step} refused, nothing written: the candidate {candidate.color} failed its smoke "
            f"check in the last `pulumi up` ({failed}), and every `pulumi up` takes that Job "
            "again until a new one replaces it: `start` again with a fix"
        )

"""Where each app's release stands (``status``), and whether a deploy of the stack is safe
(``check``).

``status --json`` prints one object, for scripts and CI; its shape is stable (``version`` changes
when it does not stay compatible)::

    {"version": 1,
     "stack": "imageview",
     "apps": [{"app": "imageview",
               "step": "started",        # unreleased | started | promoted | finished
               "next": "promote",        # the next step: start | promote | finish (after a
                                         #   promote, rollback is the other way)
               "live": {"color": "blue", "image": "gcr.io/...@sha256:...",
                        "config": "<64 hex>", "pinned": true},
               "candidate": {"color": "green", "image": "src-...", "config": "<64 hex>"} | null,
               "previous": {"color": ..., "image": ..., "config": ...} | null,
               "idle": {"color": "green", "image": "src-...", "replicas": 1},
               "served": "blue" | null,
               "allow_live_change": false,
               "canary": {"weight": 25,       # the candidate's share now, in percent
                          "plan": [5, 25, 50, 100],
                          "position": 2,      # steps of the plan reached (0: none yet)
                          "next": "shift" | "promote" | null,
                          "next_weight": 50 | null} | null}]}

``live.pinned`` is false before the first release (nothing protects the live color yet; its
``config`` is then what it runs now). ``served`` is the color the cluster serves, from the outputs
given with ``--outputs FILE`` (status runs no Pulumi CLI); null without them or when the app is
not deployed: then what the cluster serves is unknown, and ``live`` is only what the stack file
records. A promote the stack file records but the cluster does not serve (its ``pulumi up`` did
not finish) has ``next`` ``promote``. ``allow_live_change`` is true while
``release.allowLiveChange`` lifts the live color's protection. ``canary`` is null for a
blue/green app; for a canary app it gives the candidate's share and where it stands in the plan:
while a release is started, ``next`` is ``shift`` (to ``next_weight``) until the plan's last
weight below 100 is reached, then ``promote``; otherwise null (the app's ``next`` says what comes).
``canary`` was added to version 1 without changing any other field. Apps are in the stack file's
order.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from infra import cutover
from infra.release.deployed import Outputs, check_outputs, deployed_app
from infra.release.rendering import app_of, settings_of
from infra.settings import AppSettings, ColorPin

#: The version of the ``--json`` shape.
JSON_VERSION = 1
#: Hex digits of a digest the table shows.
_SHORT = 12


class Stage(StrEnum):
    """Where an app's release stands, and the step that comes next."""

    UNRELEASED = "unreleased"
    """No release recorded: the live color is not protected yet."""
    STARTED = "started"
    """A candidate is recorded (by ``start``, or by a rollback: the color traffic left)."""
    PROMOTED = "promoted"
    """Traffic is on the candidate; the previous color is kept for a rollback."""
    FINISHED = "finished"
    """The live color is pinned; no release is under way."""

    @property
    def next(self) -> str:
        return {
            Stage.UNRELEASED: "start",
            Stage.STARTED: "promote",
            Stage.PROMOTED: "finish",
            Stage.FINISHED: "start",
        }[self]


@dataclass(frozen=True)
class AppStatus:
    """One app's row."""

    app: AppSettings
    served: str | None
    """The color the cluster serves, from the outputs; ``None`` when unknown."""

    @property
    def stage(self) -> Stage:
        record = self.app.release
        if record.live is None:
            return Stage.UNRELEASED
        if record.previous is not None:
            return Stage.PROMOTED
        return Stage.STARTED if record.candidate is not None else Stage.FINISHED

    @property
    def live(self) -> ColorPin:
        return self.app.release.live or cutover.pin_of(self.app, self.app.active_color)

    @property
    def unapplied(self) -> bool:
        """The stack file records a promote the cluster does not serve: its ``pulumi up`` did
        not finish."""
        previous = self.app.release.previous
        return (
            self.stage is Stage.PROMOTED
            and previous is not None
            and self.served == (previous.color)
        )

    @property
    def next(self) -> str:
        return "promote" if self.unapplied else self.stage.next

    def as_json(self) -> dict[str, Any]:
        record, idle = self.app.release, cutover.idle_color(self.app)
        return {
            "app": self.app.name,
            "step": str(self.stage),
            "next": self.next,
            "live": {**_pin(self.live), "pinned": record.live is not None},
            "candidate": _pin(record.candidate) if record.candidate else None,
            "previous": _pin(record.previous) if record.previous else None,
            "idle": {
                "color": idle,
                "image": cutover.runs(self.app, idle),
                "replicas": cutover.replicas(self.app, idle),
            },
            "served": self.served,
            "allow_live_change": record.allow_live_change,
            "canary": self.canary(),
        }

    def canary(self) -> dict[str, Any] | None:
        """Where a canary app's candidate stands in its plan; ``None`` for a blue/green app."""
        settings = self.app.canary
        if settings is None:
            return None
        weight, plan = self.app.release.weight, settings.plan
        following = next((w for w in plan if w > weight), None)
        started = self.stage is Stage.STARTED
        return {
            "weight": weight,
            "plan": list(plan),
            "position": sum(1 for w in plan if w <= weight),
            "next": (None if not started else "promote" if following in (None, 100) else "shift"),
            "next_weight": following if started else None,
        }

    def row(self) -> list[str]:
        record, idle = self.app.release, cutover.idle_color(self.app)
        live = f"{self.live.color} {short(self.live.image)}"
        if record.live is None:
            live += " (not pinned)"
        candidate = record.candidate
        pods = cutover.replicas(self.app, idle)
        idle_pods = f"{pods} pod" + ("" if pods == 1 else "s")
        if record.previous:
            idle_pods += ", previous"
        step = f"{self.stage}: next {self.stage.next}"
        canary = self.canary()
        if canary is not None and self.stage is Stage.STARTED:
            step = (
                f"{self.stage}, {canary['weight']} % (step {canary['position']} of "
                f"{len(canary['plan'])}): next {canary['next']}"
            )
            if canary["next"] == "shift":
                step += f" ({canary['next_weight']} %)"
        if self.unapplied:
            step = f"{self.stage}, not applied: next promote --apply"
        if self.stage is Stage.PROMOTED:
            step += " or rollback"
        return [
            self.app.name,
            live,
            f"{candidate.color} {short(candidate.image)}" if candidate else "-",
            f"{idle} {short(cutover.runs(self.app, idle))} ({idle_pods})",
            step,
        ]

    def drift(self) -> str | None:
        if self.served is None or self.served == self.app.active_color:
            return None
        if self.unapplied:
            return (
                f"{self.app.name}: NOT APPLIED: the stack file records the promote to "
                f"{self.app.active_color}, but the cluster still serves {self.served} (its "
                f"`pulumi up` did not finish): run `promote --apply` again, or `rollback` to "
                f"stay on {self.served}"
            )
        return (
            f"{self.app.name}: the cluster serves {self.served}, but the stack file says "
            f"{self.app.active_color} is live: a step was applied from a stack file that is not "
            "this one; merge its release PR (or pull)"
        )


def _pin(pin: ColorPin) -> dict[str, str]:
    return {"color": pin.color, "image": pin.image, "config": pin.config}


def short(image: str) -> str:
    """An image reference with its digest cut to 12 hex digits, for the table."""
    name, sep, digest = image.partition("@sha256:")
    return f"{name}{sep}{digest[:_SHORT]}" if sep else image


def statuses(stack: str, app: str | None, outputs: Outputs | None) -> list[AppStatus]:
    """Every app of the stack (or the one ``app``), with what the outputs say it serves."""
    settings = settings_of(stack)
    chosen = [app_of(settings, app)] if app is not None else list(settings.apps.values())
    result = []
    for a in chosen:
        entry = deployed_app(outputs or {}, a.name)
        served = entry.get("active_color") if entry is not None else None
        result.append(AppStatus(a, served if isinstance(served, str) else None))
    return result


def table(rows: list[AppStatus], unknown: str | None = None) -> list[str]:
    """The rows as an aligned table, then a line per app whose live color nothing protects, a
    line per app whose cluster drifted, and why what the cluster serves is ``unknown``."""
    cells = [["APP", "LIVE", "CANDIDATE", "IDLE", "STEP"], *(r.row() for r in rows)]
    widths = [max(len(line[i]) for line in cells) for i in range(len(cells[0]) - 1)]
    lines = [
        "  ".join([*(c.ljust(w) for c, w in zip(line, widths, strict=False)), line[-1]])
        for line in cells
    ]
    lines += [f"WARNING: {unprotected(r.app)}" for r in rows if r.app.release.allow_live_change]
    lines += [f"DRIFT: {d}" for d in (r.drift() for r in rows) if d]
    if unknown is not None:
        lines.append(
            f"SERVED: unknown ({unknown}): LIVE is what the stack file records, not necessarily "
            "what the cluster serves; pass --outputs FILE to compare"
        )
    return lines


def unprotected(app: AppSettings) -> str:
    """The line about an app whose ``release.allowLiveChange`` is on."""
    return (
        f"{app.name}: release.allowLiveChange is ON: nothing stops a deploy from changing the "
        f"live color {app.active_color} in place; remove it from the stack file as soon as the "
        "change it was set for is deployed"
    )


def as_json(stack: str, rows: list[AppStatus]) -> dict[str, Any]:
    """The documented ``--json`` object."""
    return {"version": JSON_VERSION, "stack": stack, "apps": [r.as_json() for r in rows]}


def check(stack: str, outputs: Outputs) -> list[str]:
    """What makes a deploy of this stack unsafe: a deployed app whose live color nothing
    protects (no release recorded, or ``allowLiveChange`` on), or whose live image the cluster
    does not run. Outputs it cannot trust are an error (:func:`check_outputs`)."""
    settings = settings_of(stack)
    check_outputs(settings, outputs)
    problems = [unprotected(a) for a in settings.apps.values() if a.release.allow_live_change]
    for app in settings.apps.values():
        deployed = deployed_app(outputs, app.name)
        if deployed is None:
            continue
        live = app.release.live
        if live is None:
            problems.append(
                f"{app.name}: deployed, but no release is recorded, so a code or config change "
                f"would roll the live color {app.active_color} in place; record one first: "
                f"python -m infra.release start --stack {stack} --app {app.name}"
            )
            continue
        served = deployed.get("active_color")
        if served not in (live.color, (app.release.previous or live).color):
            problems.append(
                f"{app.name}: the cluster serves {served}, but the stack file says {live.color} "
                "is live: merge the release PR of the last step (or pull), then deploy"
            )
        image = (deployed.get("images") or {}).get(live.color)
        if image and not live.image.startswith("src-") and image != live.image:
            problems.append(
                f"{app.name}: the cluster runs {image} on the live color {live.color}, but the "
                f"stack file records {live.image}: merge the release PR of the last step (or "
                "pull), then deploy"
            )
    return problems

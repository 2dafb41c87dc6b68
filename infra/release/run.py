"""Running a step: render the stack before and after, print what ``pulumi up`` will change, refuse
(writing nothing) a step that would change what it must not, else write the stack file and, with
``--apply``, run ``pulumi up``.

"Before" is what is deployed: the stack file (or, for a step recorded but not applied, the file as
it was before it) with each build given the digest the outputs say it runs; "after" is the edited
file, where only a build of the very sources deployed keeps its digest
(:class:`infra.release.deployed.DeployedImages`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from infra.offline.stackfile import StackFileError
from infra.release import deployed
from infra.release.changes import Change, diff
from infra.release.errors import ReleaseError
from infra.release.rendering import render
from infra.release.steps import Step
from infra.settings import ConfigError


def show(step: Step) -> tuple[list[Change], list[str]]:
    """Renders before and after; returns every change and why the step may not make some."""
    images = step.images
    try:
        before = render(step.stack, step.before, images.before if images else None)
    except (ConfigError, StackFileError) as err:
        raise ReleaseError(
            f"the stack file is refused as it is now ({err}); fix it, then run the {step.name} "
            "again"
        ) from None
    try:
        after = render(step.stack, step.file.text(), images.after if images else None)
    except ConfigError as err:
        raise ReleaseError(
            f"the {step.name} would give a config the program refuses ({err}); nothing written: "
            f"fix what it names in the stack file, then run the {step.name} again"
        ) from None
    changes = diff(before, after)
    return changes, [why for why in map(step.refusal, changes) if why is not None]


def run_step(
    step: Step, apply: bool, out: Callable[[str], None], up_args: Sequence[str] = ()
) -> None:
    """Shows the step, writes the stack file unless it is refused, then ``pulumi up`` (with
    ``up_args``) with ``apply`` (whose CLI must be there before anything is written)."""
    if apply:
        deployed.pulumi_cli_or_refuse()
    changes, refusals = show(step)
    out(step.summary)
    note = step.images.note() if step.images else None
    if note:
        out(note)
    out("pulumi up will:" if changes else "pulumi up will change nothing")
    for change in changes:
        out(change.line())
    if refusals:
        raise ReleaseError(f"{step.name} refused, nothing written: {refusals[0]}")
    if step.file.changed():
        step.file.write()
        out(f"wrote {step.file.path}")
    else:
        applies = "" if apply else f"; `pulumi up --stack {step.stack}` applies it"
        out(f"{step.file.path} records it already: nothing to write{applies}")
    if apply:
        deployed.pulumi_up(step.stack, step.summary, up_args)

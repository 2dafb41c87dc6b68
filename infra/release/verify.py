"""Checking the live URL after a promote: requests that must answer as the app's smoke check
expects (``smoke.path``, ``smoke.status``, ``smoke.text``); ``promote --apply`` rolls back by
itself when they do not, and says the promote is unverified when the check cannot run.

Each request is one plain GET that follows no redirect (an answer from elsewhere proves nothing
about the live color: a 3xx is a failure naming its Location, unless the smoke check expects that
very status) and whose timeout bounds all of it: connecting, the headers and the body, however
slowly they trickle in.
"""

from __future__ import annotations

import http.client
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from infra import naming
from infra.canary import http as canary_http
from infra.release import deployed, run
from infra.release.deployed import Outputs
from infra.release.errors import CheckFailed, ReleaseError
from infra.release.rendering import app_of, settings_of
from infra.release.switch import plan_promote, plan_rollback
from infra.settings import AppSettings

#: The most requests one check may make.
MAX_REQUESTS = 1000


@dataclass(frozen=True)
class Verification:
    """How the live URL is checked."""

    requests: int = 10
    """Requests that must all answer as expected."""
    interval_s: float = 1.0
    """Pause between two requests, in seconds."""
    timeout_s: float = 5.0
    """How long one request may take in all (connect, headers, body), in seconds."""


@dataclass(frozen=True)
class Answer:
    """What one request got."""

    status: int
    location: str | None
    body: str


def live_url(outputs: Outputs, app: str) -> str:
    """The app's public URL from the outputs; ``""`` for a ClusterIP or local Service."""
    return str((deployed.deployed_app(outputs, app) or {}).get("url") or "")


def get(url: str, timeout_s: float) -> Answer:
    """One GET of ``url``, redirects not followed, done within ``timeout_s`` or
    :class:`TimeoutError` (:func:`infra.canary.http.get`, the one HTTP client of the release
    checks). Other failures raise :class:`OSError`, :class:`ValueError` or
    :class:`http.client.HTTPException`."""
    answer = canary_http.get(url, timeout_s)
    return Answer(
        answer.status, answer.headers.get("location"), answer.body.decode("utf-8", "replace")
    )


def verify_live(url: str, app: AppSettings, v: Verification) -> str | None:
    """``None`` when ``v.requests`` requests to the live URL all answer as the smoke check
    expects; else what was seen."""
    target = url.rstrip("/") + app.smoke.path
    for n in range(1, v.requests + 1):
        seen = f"request {n}/{v.requests} to {target}"
        try:
            answer = get(target, v.timeout_s)
        except (OSError, ValueError, http.client.HTTPException) as err:
            return f"{seen}: no answer ({err or type(err).__name__})"
        if answer.status != app.smoke.status:
            if 300 <= answer.status < 400:
                return (
                    f"{seen}: {answer.status}, a redirect to {answer.location or '(no Location)'}"
                    f", not followed: the live URL must answer {app.smoke.status} itself"
                )
            return f"{seen}: {answer.status}, expected {app.smoke.status}"
        if app.smoke.text and app.smoke.text not in answer.body:
            return f"{seen}: no {app.smoke.text!r} in the page"
        if n < v.requests:
            time.sleep(v.interval_s)
    return None


def verify(
    stack: str,
    app_name: str,
    outputs_file: Path | None,
    v: Verification,
    out: Callable[[str], None],
) -> bool:
    """``verify``: checks the live URL; True when it answers (or the app has no public URL)."""
    settings = settings_of(stack)
    app = app_of(settings, app_name)
    outputs = deployed.read_outputs(stack, outputs_file)
    deployed.check_outputs(settings, outputs)
    if deployed.deployed_app(outputs, app_name) is None:
        out(f"not verified: the outputs name no {app_name}: it is not deployed on {stack}")
        return False
    url = live_url(outputs, app_name)
    if not url:
        out(f"not verified: {app_name} has no public URL (a ClusterIP or local Service)")
        return True
    problem = verify_live(url, app, v)
    out(f"live check failed: {problem}" if problem else f"verified: {v.requests} requests to {url}")
    return problem is None


def _check_not_failed(stack: str, app_name: str) -> None:
    """Refuses a promote to a candidate whose smoke Job failed in the last ``pulumi up``: the
    engine would take that Job again and fail it again (:func:`deployed.failed_smoke_jobs`), so
    traffic could not move, and the update would still scale the candidate up and re-target the
    preview Service before it stops."""
    app = app_of(settings_of(stack), app_name)
    record = app.release
    target = record.live if record.previous is not None else record.candidate
    if target is None:
        return
    failed = deployed.failed_smoke_jobs(stack).get(
        naming.smoke_job_resource(app.name, target.color)
    )
    if failed is None:
        return
    if record.previous is not None:
        way_out = (
            f"`rollback --apply` (back to {record.previous.color}; its `pulumi up` fails on that "
            "Job once more, after the rest of it is done), then `start` again with a fix"
        )
    else:
        way_out = "`start` again with a fix (a new --source, --image or --set)"
    raise ReleaseError(
        f"promote refused, nothing written: the candidate {target.color} failed its smoke check "
        f"in the last `pulumi up` ({failed}), and every `pulumi up` takes that Job again until a "
        f"new one replaces it, so traffic cannot move to {target.color}: {way_out}; its new "
        "smoke Job replaces the failed one"
    )


def promote_and_verify(
    stack: str,
    app_name: str,
    outputs_file: Path | None,
    v: Verification,
    out: Callable[[str], None],
) -> None:
    """``promote --apply``: promotes, applies, checks the live URL; a failed check rolls back and
    applies that too. A check that cannot run (the outputs after the update unreadable, empty,
    of another stack, or not serving the promoted color) is :class:`CheckFailed`: traffic moved,
    unverified."""
    before = deployed.read_outputs(stack, outputs_file)
    step = plan_promote(stack, app_name, before)
    _check_not_failed(stack, app_name)
    run.run_step(step, apply=True, out=out)
    settings = settings_of(stack)
    app = app_of(settings, app_name)
    live, previous = app.active_color, app.release.previous
    assert previous is not None  # the promote recorded it
    try:
        # From the CLI, whatever --outputs said: that file is from before this update.
        after = deployed.read_outputs(stack, None)
        deployed.check_outputs(settings, after)
        entry = deployed.deployed_app(after, app_name)
        if entry is None:
            raise ReleaseError(f"they name no {app_name}")
        if entry.get("active_color") != live:
            raise ReleaseError(
                f"they say the cluster serves {entry.get('active_color')}, not {live}: stale"
            )
    except ReleaseError as err:
        raise CheckFailed(
            f"promote applied, but NOT VERIFIED: the outputs after `pulumi up` cannot be trusted "
            f"({err}). Traffic may be on {live} unchecked: run `verify --stack {stack} --app "
            f"{app_name}`, then `finish`, or `rollback --apply` to go back to {previous.color}"
        ) from None
    url = live_url(after, app_name)
    if not url:
        out(f"not verified: {app_name} has no public URL (a ClusterIP or local Service)")
        return
    problem = verify_live(url, app, v)
    if problem is None:
        out(f"verified: {v.requests} requests to {url} answered {app.smoke.status}")
        return
    out(f"live check failed: {problem}; rolling back")
    back = plan_rollback(stack, app_name, after)
    run.run_step(back, apply=True, out=out)
    raise CheckFailed(
        f"promote rolled back: {problem}. Traffic is on {previous.color} again and "
        f"{live} is the candidate: look at it through the preview Service, then `start` "
        "again with a fix (or `promote` again to retry it as it is)"
    )

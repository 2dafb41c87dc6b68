"""Checking the live URL after a promote: requests that must answer as the app's smoke check
expects (``smoke.path``, ``smoke.status``, ``smoke.text``); ``promote --apply`` rolls back by
itself when they do not."""

from __future__ import annotations

import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from infra.release import deployed, run, steps
from infra.release.deployed import Outputs
from infra.release.errors import ReleaseError
from infra.release.rendering import app_of, settings_of
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
    """How long one request may take, in seconds."""


def live_url(outputs: Outputs, app: str) -> str:
    """The app's public URL from the outputs; ``""`` for a ClusterIP or local Service."""
    return str((deployed.deployed_app(outputs, app) or {}).get("url") or "")


def verify_live(url: str, app: AppSettings, v: Verification) -> str | None:
    """``None`` when ``v.requests`` requests to the live URL all answer as the smoke check
    expects; else what was seen."""
    target = url.rstrip("/") + app.smoke.path
    for n in range(1, v.requests + 1):
        try:
            with urllib.request.urlopen(target, timeout=v.timeout_s) as response:  # noqa: S310
                status, body = response.status, response.read(1 << 20).decode("utf-8", "replace")
        except urllib.error.HTTPError as err:
            status, body = err.code, ""
        except (OSError, ValueError) as err:
            return f"request {n}/{v.requests} to {target}: no answer ({err})"
        if status != app.smoke.status:
            return f"request {n}/{v.requests} to {target}: {status}, expected {app.smoke.status}"
        if app.smoke.text and app.smoke.text not in body:
            return f"request {n}/{v.requests} to {target}: no {app.smoke.text!r} in the page"
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
    app = app_of(settings_of(stack), app_name)
    url = live_url(deployed.read_outputs(stack, outputs_file), app_name)
    if not url:
        out(f"not verified: {app_name} has no public URL (a ClusterIP or local Service)")
        return True
    problem = verify_live(url, app, v)
    out(f"live check failed: {problem}" if problem else f"verified: {v.requests} requests to {url}")
    return problem is None


def promote_and_verify(
    stack: str,
    app_name: str,
    outputs_file: Path | None,
    v: Verification,
    out: Callable[[str], None],
) -> None:
    """``promote --apply``: promotes, applies, checks the live URL; a failed check rolls back and
    applies that too."""
    step = steps.plan_promote(stack, app_name)
    run.run_step(step, apply=True, out=out)
    url = live_url(deployed.read_outputs(stack, outputs_file), app_name)
    if not url:
        out(f"not verified: {app_name} has no public URL (a ClusterIP or local Service)")
        return
    app = app_of(settings_of(stack), app_name)
    problem = verify_live(url, app, v)
    if problem is None:
        out(f"verified: {v.requests} requests to {url} answered {app.smoke.status}")
        return
    out(f"live check failed: {problem}; rolling back")
    back = steps.plan_rollback(stack, app_name)
    run.run_step(back, apply=True, out=out)
    live = app.release.live
    previous = app.release.previous
    assert live is not None and previous is not None  # the promote recorded both
    raise ReleaseError(
        f"promote rolled back: {problem}. Traffic is on {previous.color} again and "
        f"{live.color} is the candidate: look at it through the preview Service, then `start` "
        "again with a fix (or `promote` again to retry it as it is)"
    )

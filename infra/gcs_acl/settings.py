"""How a run talks to GCS: :class:`RunSettings`, the range each numeric setting allows, and
their check (before any request)."""

from __future__ import annotations

import math
from dataclasses import dataclass, fields

from infra.gcs_acl.errors import InvalidSpecError
from infra.gcs_acl.spec import normalize_project


@dataclass(frozen=True, kw_only=True)
class RunSettings:
    """How a run talks to GCS. Defaults suit real GCS; tests shorten the retry deadline."""

    project: str | None = None
    """Project for the client (ADC's default project when None); objects need none."""
    workers: int = 16
    """Most object requests in flight at once (1 = a sequential loop). The run starts with one
    and adapts between 1 and this (see :mod:`infra.gcs_acl.limit`)."""
    page_size: int = 1000
    """Objects per list page (GCS's maximum is 1,000)."""
    retry_deadline_s: float = 60.0
    """Seconds one request keeps retrying 429/5xx/connection failures and timeouts before the
    run stops (time spent queued behind other requests does not count)."""
    retry_initial_s: float = 0.25
    """First backoff delay in seconds (doubles, with jitter, up to ``retry_max_s``)."""
    retry_max_s: float = 8.0
    """Longest single backoff delay in seconds."""
    connect_timeout_s: float = 2.5
    """Seconds to open a connection (TCP and TLS handshakes); past it the attempt counts as a
    refusal (retried, and the requests in flight are halved). A backend with a full listen queue
    drops connection attempts, which the kernel repeats 1 s later, then 2 s after that: at
    2.5 s, two dropped attempts in a row are a pushback (bench/README.md, "Overloaded
    backend")."""
    read_timeout_s: float = 60.0
    """Seconds to wait for an answer once connected (google-cloud-storage's default)."""
    progress_interval_s: float = 2.0
    """Seconds between progress reports (0 = as often as there is news)."""


@dataclass(frozen=True)
class Limit:
    """The allowed range of one numeric setting, and its command-line flag if it has one."""

    low: float
    high: float
    whole: bool = False
    """A whole number (else any finite decimal number)."""
    low_open: bool = False
    """``low`` itself is not allowed (``> low`` rather than ``>= low``)."""
    flag: str = ""
    unit: str = ""

    def describe(self) -> str:
        """``a whole number from 1 to 256``, ``a number of seconds > 0 and <= 3600``."""
        kind = "a whole number" if self.whole else "a finite number"
        if self.unit:
            kind += f" of {self.unit}"
        low = f"> {self.low:g} and <=" if self.low_open else f"from {self.low:g} to"
        return f"{kind} {low} {self.high:g}"

    def allows(self, value: object) -> bool:
        """Whether ``value`` is finite, whole if need be, and inside the range."""
        if isinstance(value, bool) or not isinstance(value, int | float):
            return False
        if not math.isfinite(value) or (self.whole and not float(value).is_integer()):
            return False
        above = value > self.low if self.low_open else value >= self.low
        return above and value <= self.high


LIMITS: dict[str, Limit] = {
    "workers": Limit(1, 256, whole=True, flag="--workers"),
    "page_size": Limit(1, 1000, whole=True),
    "retry_deadline_s": Limit(0, 3600, low_open=True, flag="--retry-deadline", unit="seconds"),
    "retry_initial_s": Limit(0, 60, low_open=True, unit="seconds"),
    "retry_max_s": Limit(0, 600, low_open=True, unit="seconds"),
    "connect_timeout_s": Limit(0, 600, low_open=True, unit="seconds"),
    "read_timeout_s": Limit(0, 3600, low_open=True, unit="seconds"),
    "progress_interval_s": Limit(0, 3600, flag="--progress-interval", unit="seconds"),
}
"""Every numeric setting of :class:`RunSettings` and what it allows (finite, in range)."""


def setting_problem(name: str, value: object) -> str | None:
    """Why ``value`` is not allowed for the numeric setting ``name``, or None."""
    limit = LIMITS[name]
    if limit.allows(value):
        return None
    return f"{name} must be {limit.describe()}, got {value!r}"


def check_settings(settings: RunSettings) -> None:
    """Raise InvalidSpecError for settings outside what a run (and GCS) allows."""
    for f in fields(settings):
        if f.name in LIMITS:
            problem = setting_problem(f.name, getattr(settings, f.name))
            if problem is not None:
                raise InvalidSpecError(problem, f.name)
    if settings.retry_initial_s > settings.retry_max_s:
        raise InvalidSpecError(
            f"retry_initial_s ({settings.retry_initial_s:g}) must not exceed retry_max_s "
            f"({settings.retry_max_s:g})",
            "retry_initial_s",
        )
    normalize_project(settings.project)

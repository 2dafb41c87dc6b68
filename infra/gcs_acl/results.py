"""What a run found and did: the :class:`Summary` of a grant or revoke, the :class:`Scan` of the
objects, the :class:`CheckReport` of a check, and the one line each is said in."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from infra.gcs_acl.spec import ENTITY_ALIASES, AclSpec, Action

SAMPLE = 100
"""Names of objects lacking the entry a scan keeps (memory stays flat)."""
FAILURES_KEPT = 20
"""(name, reason) pairs of failed objects a summary keeps."""

ProgressFn = Callable[[str], None]
"""Where progress lines go (the CLI: stderr)."""


@dataclass
class Summary:
    """What a grant or revoke did. Counts are objects under the prefix."""

    action: Action
    spec: AclSpec
    scanned: int = 0
    """Objects listed."""
    changed: int = 0
    """Objects whose ACL this run changed."""
    already: int = 0
    """Objects that already were as asked (held the grant; or, for revoke, did not)."""
    failed: int = 0
    """Objects whose change failed for a reason of their own (names in ``failures``)."""
    undone: int = 0
    """Objects listed that needed a change this run did not make: still queued when the run
    stopped, stopped between retries, or in flight when a second Ctrl-C stopped the wait."""
    vanished: int = 0
    """Objects deleted between listing and patching (nothing to do)."""
    pages: int = 0
    """List pages read."""
    listed_all: bool = False
    """True once the last list page was read (else objects not yet listed are not counted)."""
    pushbacks: int = 0
    """Requests the backend refused, timed out or answered 429/5xx (each was retried)."""
    lowest_in_flight: int = 0
    """The fewest requests in flight the run went down to after a pushback (0 = none)."""
    elapsed_s: float = 0.0
    failures: list[tuple[str, str]] = field(default_factory=list)
    """(object name, reason) for the first ``FAILURES_KEPT`` failures."""
    complete: bool = False
    """True once every page was listed and every change attempted."""

    def line(self) -> str:
        """The one-line summary printed at the end of a run."""
        already = {
            ("grant", True): "already public",
            ("grant", False): "already granted",
            ("revoke", True): "already private",
            ("revoke", False): "already revoked",
        }[(self.action, self.spec.entity in ENTITY_ALIASES.values())]
        text = (
            f"{self.action} {self.spec.entry} on {self.spec.where}: scanned {self.scanned}, "
            f"changed {self.changed}, {already} {self.already}, failed {self.failed}"
        )
        if not self.complete or self.undone:
            text += f", left undone {self.undone}"
        if self.vanished:
            text += f", vanished {self.vanished}"
        text += f" ({self.pages} pages, {self.elapsed_s:.1f}s)"
        if self.pushbacks:
            text += (
                f" - backend pushed back {self.pushbacks} times, requests in flight lowered "
                f"to {self.lowest_in_flight}"
            )
        if not self.complete:
            text += " - INCOMPLETE, re-run to finish"
            if not self.listed_all:
                text += " (the listing stopped early: objects not yet listed are not counted)"
        elif self.scanned == 0 and not self.vanished:
            text += f" - {self.spec.nothing_matched()}"
        elif self.changed == 0 and self.failed == 0:
            text += " - nothing to change, already up to date"
        return text


@dataclass
class Scan:
    """Which objects under the prefix hold the entry (no changes made)."""

    spec: AclSpec
    scanned: int = 0
    holding: int = 0
    """Objects that hold the entry (with the role or a higher one)."""
    missing: int = 0
    """Objects that lack it."""
    sample: list[str] = field(default_factory=list)
    """Names of the first ``SAMPLE`` objects that lack it (memory stays flat)."""
    pages: int = 0

    def line(self) -> str:
        """One line for a scan that stopped early (nothing is ever changed by a scan)."""
        return (
            f"check {self.spec.entry} on {self.spec.where}: scanned {self.scanned} "
            f"({self.pages} pages), holding {self.holding}, lacking {self.missing} - "
            "INCOMPLETE, nothing changed"
        )


@dataclass(frozen=True)
class Finding:
    """One line of ``check``: a place that is (or is not) as asked."""

    ok: bool
    what: str
    detail: str


@dataclass
class CheckReport:
    """Everything ``check`` looked at; ``ok`` only if every finding is."""

    spec: AclSpec
    uniform_access: bool
    findings: list[Finding]
    scan: Scan | None

    @property
    def ok(self) -> bool:
        """True when the bucket is public the way ``spec`` asks."""
        return all(f.ok for f in self.findings)

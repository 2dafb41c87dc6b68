"""What the doctor finds: one :class:`Finding` per line of the report, ok, MISSING or not checked,
and the report around them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

Status = Literal["ok", "MISSING", "not checked"]


@dataclass(frozen=True)
class Finding:
    """One line of the report."""

    status: Status
    what: str
    detail: str

    def line(self) -> str:
        return f"{self.status:<12} {self.what:<24} {self.detail}"


class Checks:
    """A group of checks. Each appends what it finds to ``findings``, a list the groups share so
    that the report keeps the order the checks ran in."""

    def __init__(self, findings: list[Finding] | None = None) -> None:
        self.findings: list[Finding] = [] if findings is None else findings

    def add(self, status: Status, what: str, detail: str) -> None:
        self.findings.append(Finding(status, what, detail))


def missing(findings: Sequence[Finding]) -> list[Finding]:
    """What `pulumi up` still needs."""
    return [f for f in findings if f.status == "MISSING"]


def report(stack: str, findings: Sequence[Finding]) -> list[str]:
    """The doctor's output: a heading, one line per finding, and the count with what to do
    next."""
    absent = missing(findings)
    unchecked = [f for f in findings if f.status == "not checked"]
    ready = len(findings) - len(absent) - len(unchecked)
    after = (
        "fix each MISSING line, then run the doctor again"
        if absent
        else f"next: make preview STACK={stack}, then make up STACK={stack}"
    )
    return [
        f"pulumi up --stack {stack}: what this machine and the stack need",
        *(finding.line() for finding in findings),
        f"{len(absent)} missing, {len(unchecked)} not checked offline, {ready} ok; {after}",
    ]

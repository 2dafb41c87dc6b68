"""Running the tools the doctor checks, with a timeout, and reading the versions they print."""

from __future__ import annotations

import re
import subprocess
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TypeAlias

TIMEOUT_S = 20

Version: TypeAlias = tuple[int, int, int]

#: A semantic version with its pre-release part: ``v3.273.0-alpha.1748383937+g1a2b3c``.
SEMVER = re.compile(r"(\d+)\.(\d+)\.(\d+)(?:-([0-9A-Za-z.-]+))?")


@dataclass(frozen=True)
class NoAnswer:
    """A command that was started but did not answer within ``seconds`` (it was killed)."""

    seconds: float

    def line(self, cmd: str) -> str:
        return f"`{cmd}` did not answer within {self.seconds:g} s"


Ran: TypeAlias = "subprocess.CompletedProcess[str] | NoAnswer | None"
Run = Callable[[Sequence[str]], Ran]


def run_tool(cmd: Sequence[str]) -> subprocess.CompletedProcess[str] | NoAnswer | None:
    """Runs a tool with a timeout (:data:`TIMEOUT_S`); :class:`NoAnswer` when it does not answer
    in time, ``None`` when it cannot be started."""
    try:
        return subprocess.run(
            list(cmd), capture_output=True, text=True, timeout=TIMEOUT_S, check=False
        )
    except subprocess.TimeoutExpired:
        return NoAnswer(TIMEOUT_S)
    except OSError:
        return None


def answered(result: object) -> subprocess.CompletedProcess[str] | None:
    """``result`` when the command ran and exited 0."""
    if isinstance(result, subprocess.CompletedProcess) and result.returncode == 0:
        return result
    return None


def version(text: str) -> Version | None:
    """The first ``X.Y.Z`` in ``text``."""
    m = re.search(r"(\d+)\.(\d+)\.(\d+)", text)
    return (int(m[1]), int(m[2]), int(m[3])) if m else None


def shown(version: Version) -> str:
    return ".".join(map(str, version))

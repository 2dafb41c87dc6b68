"""The loopback control plane (tests/real/cluster.py), one per session. Where a binary is missing
the tier skips and names it; under ``CI=true`` it fails instead (tests/prerequisites.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.prerequisites import unavailable
from tests.real.cluster import ControlPlane, Unavailable, binaries


@pytest.fixture(scope="session")
def cluster() -> Iterator[ControlPlane]:
    try:
        binaries()
    except Unavailable as exc:
        unavailable(str(exc))
    plane = ControlPlane().start()
    try:
        yield plane
    finally:
        plane.stop()

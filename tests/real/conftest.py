"""The loopback control plane (tests/real/cluster.py), one per session. Where a binary is missing
the tier skips and names it; under ``CI=true`` it fails instead (tests/prerequisites.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.prerequisites import unavailable
from tests.real.cli import Cli
from tests.real.cluster import ControlPlane, Unavailable, binaries
from tests.real.project import program_cli


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


@pytest.fixture
def engine(cluster: ControlPlane, tmp_path: Path) -> Cli:
    """The real CLI with our Python language host, its kubeconfig the session's cluster
    (test_engine.py runs a YAML program and overrides it)."""
    return program_cli(tmp_path / "cli", cluster.kubeconfig)

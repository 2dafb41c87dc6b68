"""Fixtures of the image tier: a Docker engine with the registry on 127.0.0.1:5000, and the
debootstrap-built bases. Where no engine can be had the tier is skipped with the reason; under
``CI=true`` it fails instead (tests/prerequisites.py)."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from tests.images.docker_tools import REGISTRY, ROOT, http_get
from tests.prerequisites import unavailable


@pytest.fixture(scope="session")
def engine() -> None:
    """A Docker engine and the registry on 127.0.0.1:5000, started when missing."""
    if shutil.which("docker") is None:
        unavailable("no docker CLI on PATH (install: bash scripts/install.sh)")
    ok = subprocess.run(["docker", "info"], capture_output=True, check=False).returncode == 0
    try:
        registry_ok = http_get(f"http://{REGISTRY}/v2/", timeout=2)[0] == 200
    except OSError:
        registry_ok = False
    if not ok or not registry_ok:
        start = subprocess.run(
            ["bash", str(ROOT / "scripts/images/start-engine.sh")],
            capture_output=True,
            text=True,
            check=False,
        )
        if start.returncode != 0:
            unavailable(f"no Docker engine: {start.stderr.strip() or start.stdout.strip()}")


@pytest.fixture(scope="session")
def bases(engine: None) -> None:
    """The debootstrap-built Python and Node bases (reused when already built)."""
    proc = subprocess.run(
        ["bash", str(ROOT / "scripts/images/build-bases.sh")],
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert proc.returncode == 0, f"building the base images failed:\n{proc.stdout}{proc.stderr}"

"""What the image tier's tests share: the docker CLI and BuildKit builds, the local bases and
registry, and a loopback HTTP GET (fixtures that start them are in conftest.py)."""

from __future__ import annotations

import subprocess
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
APPS = ROOT / "apps"
REGISTRY = "127.0.0.1:5000"
REGISTRY_CONFIG = ROOT / "scripts/images/registry.yml"
#: Where scripts/images/registry.yml keeps the registry's data.
REGISTRY_ROOT = Path("/var/lib/gkebg-registry")
PYTHON_BASE = "gkebg-local/python:bookworm"
NODE_BASE = "gkebg-local/node:bookworm"


def docker(*args: str, check: bool = True, timeout: float = 300) -> str:
    """Runs the docker CLI; on failure raises with its stderr (the CLI says what went wrong)."""
    proc = subprocess.run(
        ["docker", *args], capture_output=True, text=True, timeout=timeout, check=False
    )
    if check and proc.returncode != 0:
        raise AssertionError(f"docker {' '.join(args)} failed ({proc.returncode}):\n{proc.stderr}")
    return proc.stdout


def build(*args: str) -> str:
    """``docker build`` with BuildKit (scripts/images/docker-build.sh picks a CLI that has it)."""
    proc = subprocess.run(
        ["bash", str(ROOT / "scripts/images/docker-build.sh"), *args],
        capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    if proc.returncode != 0:
        raise AssertionError(f"build {' '.join(args)} failed ({proc.returncode}):\n{proc.stderr}")
    return proc.stdout


def http_get(url: str, timeout: float = 5) -> tuple[int, dict[str, str], bytes]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:  # loopback only
            return resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read()
    except urllib.error.HTTPError as err:
        return err.code, {k.lower(): v for k, v in err.headers.items()}, err.read()

"""Offline renders of the stacks for the delivery tests (``python -m infra.render``, subprocess).

Each (stack, overrides) pair is rendered once per test session into a temporary folder that is
removed at exit. The render needs the apps' Dockerfiles (a stack's ``source`` must hold one);
until they are in the tree the tests that need a render skip on a dev machine and fail in CI.
"""

from __future__ import annotations

import atexit
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

import pytest

from tests.prerequisites import unavailable

ROOT = Path(__file__).resolve().parents[2]
RENDER_TIMEOUT_S = 300
_cache: dict[tuple[str, tuple[str, ...]], Path] = {}
_base: list[Path] = []


def stacks() -> list[str]:
    """Every stack with a stack file."""
    return sorted(
        p.name[len("Pulumi.") : -len(".yaml")] for p in (ROOT / "stacks").glob("Pulumi.*.yaml")
    )


def dockerfiles() -> list[Path]:
    """Every app Dockerfile in the tree (not a dependency's, under node_modules)."""
    return sorted(p for p in (ROOT / "apps").glob("**/Dockerfile") if "node_modules" not in p.parts)


def require_renderable() -> None:
    """Skips (fails under CI=true) when the program or the apps it builds are not in the tree."""
    missing = [
        what
        for what, ok in (
            ("infra/render.py", (ROOT / "infra" / "render.py").is_file()),
            ("stacks/Pulumi.*.yaml", bool(stacks())),
            ("apps/**/Dockerfile", bool(dockerfiles())),
        )
        if not ok
    ]
    if missing:
        unavailable(f"cannot render the stacks: {', '.join(missing)} not in the tree")


def _base_dir() -> Path:
    if not _base:
        _base.append(Path(tempfile.mkdtemp(prefix="gke-bluegreen-render-")))
        atexit.register(shutil.rmtree, _base[0], True)
    return _base[0]


def render(stack: str, sets: Sequence[str] = ()) -> Path:
    """The render folder of ``stack`` with ``--set`` overrides; a failed render fails the test."""
    require_renderable()
    key = (stack, tuple(sets))
    if key not in _cache:
        out = _base_dir() / f"{stack}-{len(_cache)}"
        cmd = [sys.executable, "-m", "infra.render", "--stack", stack, "--out", str(out)]
        for s in sets:
            cmd += ["--set", s]
        proc = subprocess.run(
            cmd, check=False, cwd=ROOT, capture_output=True, text=True, timeout=RENDER_TIMEOUT_S
        )
        if proc.returncode != 0:
            pytest.fail(f"render of {stack} {list(sets)} failed ({proc.returncode}): {proc.stderr}")
        _cache[key] = out
    return _cache[key]

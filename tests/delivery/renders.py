"""Offline renders of the stacks, as folders, for the delivery and policy tests: the same harness
as every other test (infra/offline), written by the render CLI's own writer.

Each (stack, overrides) pair is rendered once per test session into a temporary folder that is
removed at exit.
"""

from __future__ import annotations

import atexit
import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path

from infra.offline import render as rendering
from infra.offline.stackfile import stack_names
from infra.paths import ROOT
from tests.prerequisites import unavailable

__all__ = ["ROOT", "dockerfiles", "render", "require_renderable", "stacks"]

_cache: dict[tuple[str, tuple[str, ...]], Path] = {}
_base: list[Path] = []


def stacks() -> list[str]:
    """Every stack with a stack file."""
    return stack_names()


def dockerfiles() -> list[Path]:
    """Every app Dockerfile in the tree (not a dependency's, under node_modules)."""
    return sorted(p for p in (ROOT / "apps").glob("**/Dockerfile") if "node_modules" not in p.parts)


def require_renderable() -> None:
    """Skips (fails under CI=true) when there is nothing to render."""
    if not stacks() or not dockerfiles():
        unavailable("cannot render: no stacks/Pulumi.*.yaml or apps/**/Dockerfile in the tree")


def _base_dir() -> Path:
    if not _base:
        _base.append(Path(tempfile.mkdtemp(prefix="gke-bluegreen-render-")))
        atexit.register(shutil.rmtree, _base[0], True)
    return _base[0]


def render(stack: str, sets: Sequence[str] = ()) -> Path:
    """The render folder of ``stack`` with ``--set`` overrides (a bad config raises)."""
    require_renderable()
    key = (stack, tuple(sets))
    if key not in _cache:
        out = _base_dir() / f"{stack}-{len(_cache)}"
        rendering.render(stack, sets, out=out)
        _cache[key] = out
    return _cache[key]

"""What ``pulumi up`` matches state by must not move: every resource of every stack, as recorded in
tests/stacks/urns/<stack>.json, is still registered with the same URN, type, name and parent. A
URN that disappears is a live object deleted (or replaced) on the next ``pulumi up``.

New resources may appear (add them to the snapshot in the same change, so a reviewer sees them);
an intended removal or rename is a snapshot edit, with an ``aliases`` option when it is a rename.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from infra.offline.program import Render
from infra.offline.stackfile import stack_names

Renderer = Callable[..., Render]
SNAPSHOTS = Path(__file__).parent / "urns"


def rows(render: Render) -> set[tuple[str, str, str, str | None]]:
    return {(_urn(r.urn), r.type, r.name, _parent(r.parent)) for r in render.resources}


def _urn(urn: str) -> str:
    """The part of a URN the program decides: parent type chain, type and name. The
    ``urn:pulumi:<stack>::<project>::`` prefix comes from the engine (and older SDKs' mocks write
    placeholders there)."""
    return urn.split("::", 2)[2]


def _parent(urn: str | None) -> str | None:
    """Top-level resources are parented to the root stack, which some SDK versions' mocks
    register and some do not: either way, the resource's own URN holds the parent's type chain."""
    if urn is None or urn.split("::")[-2] == "pulumi:pulumi:Stack":
        return None
    return _urn(urn)


def snapshot(stack: str) -> set[tuple[str, str, str, str | None]]:
    return {
        (_urn(r["urn"]), r["type"], r["name"], _parent(r["parent"]))
        for r in json.loads((SNAPSHOTS / f"{stack}.json").read_text())
    }


def test_every_stack_has_a_snapshot() -> None:
    assert sorted(p.stem for p in SNAPSHOTS.glob("*.json")) == stack_names()


@pytest.mark.parametrize("stack", stack_names())
def test_no_resource_moves(render_stack: Renderer, stack: str) -> None:
    missing = snapshot(stack) - rows(render_stack(stack))
    assert not missing, f"{stack}: these would be deleted or replaced: {sorted(missing)}"


@pytest.mark.parametrize("stack", stack_names())
def test_new_resources_are_in_the_snapshot(render_stack: Renderer, stack: str) -> None:
    added = rows(render_stack(stack)) - snapshot(stack)
    assert not added, f"{stack}: add these to tests/stacks/urns/{stack}.json: {sorted(added)}"


def test_the_check_catches_a_rename(render_stack: Renderer) -> None:
    renamed = {
        (u.replace("::imageview-blue", "::imageview-b"), t, n, p)
        for u, t, n, p in rows(render_stack("imageview"))
    }
    assert snapshot("imageview") - renamed, "a renamed Deployment must show up as missing"

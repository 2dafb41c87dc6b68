"""Shared fixtures: the real program under the offline harness (infra/offline), the one harness."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import pytest

from infra.offline import program, stackfile


@pytest.fixture(scope="session")
def render_stack() -> Callable[..., program.Render]:
    """Runs the whole program for a stack file (plus overrides) and returns what it registered.

    Results are cached per argument set: a render is deterministic, and tests never mutate one.
    """
    cache: dict[tuple[object, ...], program.Render] = {}

    def run(
        stack: str, sets: Sequence[str] = (), secrets: Sequence[str] = (), preview: bool = False
    ) -> program.Render:
        key = (stack, tuple(sets), tuple(secrets), preview)
        if key not in cache:
            config = stackfile.merged(stack, sets, secrets)
            cache[key] = program.run(config, preview=preview)
        return cache[key]

    return run

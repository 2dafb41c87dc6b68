"""Shared fixtures: run the real program under the mocks in infra/mocks.py (the one harness)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import pytest

from infra import render as rendering


@pytest.fixture(scope="session")
def render_stack() -> Callable[..., rendering.Render]:
    """Runs the whole program for a stack file (plus overrides) and returns what it registered.

    Results are cached per argument set: a render is deterministic, and tests never mutate one.
    """
    cache: dict[tuple[object, ...], rendering.Render] = {}

    def run(
        stack: str, sets: Sequence[str] = (), secrets: Sequence[str] = (), preview: bool = False
    ) -> rendering.Render:
        key = (stack, tuple(sets), tuple(secrets), preview)
        if key not in cache:
            config, secret_keys = rendering.stack_config(stack, sets, secrets)
            cache[key] = rendering.run(stack, config, secret_keys, preview=preview)
        return cache[key]

    return run

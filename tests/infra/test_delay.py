"""infra/delay.py: the provider of the scale-down pause sleeps only when the active color changes,
and the state holds it by its module path (``infra.delay``), which must therefore not move."""

from __future__ import annotations

import base64
import io
import time
from collections.abc import Callable

import dill
from pulumi.dynamic.dynamic import serialize_provider

from infra.delay import DelayProvider
from infra.offline.program import Render
from tests.helpers import plain

Renderer = Callable[..., Render]
DELAY = "pulumi-python:dynamic/release:ScaleDownDelay"


def loaded(raw: bytes) -> tuple[object, list[tuple[str, str]]]:
    """A pickle loaded as the dynamic provider host loads it, and the (module, name) pairs it
    imported on the way."""
    imported: list[tuple[str, str]] = []

    class Recording(dill.Unpickler):  # type: ignore[misc]  # dill ships no type hints
        def find_class(self, module: str, name: str) -> object:
            imported.append((module, name))
            return super().find_class(module, name)

    return Recording(io.BytesIO(raw)).load(), imported


def test_create_is_instant_and_a_cutover_sleeps() -> None:
    provider = DelayProvider()
    started = time.monotonic()
    provider.create({"active_color": "blue", "seconds": 5})
    assert time.monotonic() - started < 1, "a first deploy has nothing to drain"
    same = {"active_color": "blue", "seconds": 0.3}
    assert not provider.diff("delay", same, same).changes
    flipped = {"active_color": "green", "seconds": 0.3}
    assert provider.diff("delay", same, flipped).changes
    assert not provider.diff("delay", same, flipped).replaces
    started = time.monotonic()
    provider.update("delay", same, flipped)
    assert time.monotonic() - started >= 0.3
    started = time.monotonic()
    provider.update("delay", same, {"active_color": "blue", "seconds": 0.3})
    assert time.monotonic() - started < 0.2, "no cutover, no pause"


def test_the_state_holds_the_provider_by_its_module_path(render_stack: Renderer) -> None:
    delay = render_stack("prod").of_type(DELAY)[0]
    provider, imported = loaded(base64.b64decode(plain(delay)["__provider"]))
    # By reference, not by value (no code in the state), under the path the stacks hold.
    assert imported == [("infra.delay", "DelayProvider")]
    assert type(provider) is DelayProvider


def test_a_provider_pickled_by_value_is_told_apart() -> None:
    """What the check above refuses: a class dill cannot import by path travels as code."""

    def local() -> DelayProvider:
        class Local(DelayProvider):
            pass

        return Local()

    _, imported = loaded(base64.b64decode(serialize_provider(local())))
    assert imported != [("infra.delay", "DelayProvider")]
    assert ("dill._dill", "_create_type") in imported

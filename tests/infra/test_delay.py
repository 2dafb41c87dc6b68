"""infra/delay.py: the pause before the previous color scales down, as a dynamic resource: it
sleeps only when the active color changes, and is wired between the live Service and the idle
Deployment."""

from __future__ import annotations

import base64
import time
from collections.abc import Callable

import dill

from infra.delay import DelayProvider
from infra.offline.program import Render
from tests.helpers import plain

Renderer = Callable[..., Render]
DELAY = "pulumi-python:dynamic/release:ScaleDownDelay"


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


def test_it_sleeps_only_when_the_idle_color_scales_down(render_stack: Renderer) -> None:
    prod = plain(render_stack("prod").of_type(DELAY)[0])
    assert prod == {"active_color": "blue", "seconds": 30} | {"__provider": prod["__provider"]}
    dev = plain(render_stack("dev").of_type(DELAY)[0])
    assert dev["seconds"] == 0, "dev keeps both colors at full size: nothing to wait for"
    slower = plain(
        render_stack("prod", ["apps.imageview.scaleDownDelaySeconds=90"]).of_type(DELAY)[0]
    )
    assert slower["seconds"] == 90


def test_the_provider_survives_serialization(render_stack: Renderer) -> None:
    delay = render_stack("prod").of_type(DELAY)[0]
    provider = dill.loads(base64.b64decode(plain(delay)["__provider"]))
    assert type(provider).__name__ == "DelayProvider"

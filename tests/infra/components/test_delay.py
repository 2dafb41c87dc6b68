"""infra/components/delay.py: the pause before the previous color scales down, as a dynamic
resource wired between the live Service and the idle Deployment; it pauses only when the idle
color scales down."""

from __future__ import annotations

from collections.abc import Callable

from infra.offline.program import Render
from tests.helpers import plain

Renderer = Callable[..., Render]
DELAY = "pulumi-python:dynamic/release:ScaleDownDelay"


def test_it_sleeps_only_when_the_idle_color_scales_down(render_stack: Renderer) -> None:
    prod = plain(render_stack("prod").of_type(DELAY)[0])
    assert prod == {"active_color": "blue", "seconds": 30} | {"__provider": prod["__provider"]}
    dev = plain(render_stack("dev").of_type(DELAY)[0])
    assert dev["seconds"] == 0, "dev keeps both colors at full size: nothing to wait for"
    slower = plain(
        render_stack("prod", ["apps.imageview.scaleDownDelaySeconds=90"]).of_type(DELAY)[0]
    )
    assert slower["seconds"] == 90

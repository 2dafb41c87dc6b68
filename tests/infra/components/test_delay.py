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
    kept = ["apps.imageview.idleReplicas=1"]
    imageview = plain(render_stack("imageview", kept).of_type(DELAY)[0])
    assert imageview == {"active_color": "blue", "seconds": 30} | {
        "__provider": imageview["__provider"]
    }
    dev = plain(render_stack("dev").of_type(DELAY)[0])
    assert dev["seconds"] == 0, "dev keeps both colors at full size: nothing to wait for"
    slower = plain(
        render_stack("imageview", [*kept, "apps.imageview.scaleDownDelaySeconds=90"]).of_type(
            DELAY
        )[0]
    )
    assert slower["seconds"] == 90


def test_a_canary_never_sleeps_its_previous_color_keeps_its_pods(render_stack: Renderer) -> None:
    """prod's imageview keeps one idle pod (idleReplicas: 1), but as a canary its previous color
    runs at full size until finish: a promote scales nothing down, so nothing waits."""
    prod = plain(render_stack("prod").of_type(DELAY)[0])
    assert prod["seconds"] == 0

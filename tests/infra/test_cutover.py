"""infra/cutover.py: which color is live, how many pods each color runs, and the order a
cutover happens in; flipping activeColor changes only the Services."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from infra import cutover
from infra.offline.program import Render
from infra.settings import AppSettings
from tests.helpers import DEPLOYMENT, SERVICE, changed, manifest, one
from tests.infra.config.cases import DELETE, parsed, with_value

Renderer = Callable[..., Render]


@pytest.mark.parametrize("stack", ["imageview", "dev", "local"])
def test_flipping_active_color_changes_only_the_services(
    render_stack: Renderer, stack: str
) -> None:
    before = render_stack(stack)
    app = next(iter(before.config.values["gke-bluegreen:apps"]))
    after = render_stack(stack, [f"apps.{app}.activeColor=green"])
    diff = changed(before, after)
    assert diff and all(kind == "Service" for kind, _ in diff), diff
    live = manifest(after, "Service", after.outputs["apps"][app]["preview_service"])
    assert live["spec"]["selector"]["color"] == "blue", "preview now selects the old color"
    assert after.outputs["apps"][app]["active_color"] == "green"


def test_idle_replicas_scale_the_idle_color_only(render_stack: Renderer) -> None:
    r = render_stack("imageview", ["apps.imageview.idleReplicas=0"])
    assert manifest(r, "Deployment", "webserver-blue")["spec"]["replicas"] == 3
    assert manifest(r, "Deployment", "webserver-green")["spec"]["replicas"] == 0
    flipped = render_stack(
        "imageview", ["apps.imageview.idleReplicas=0", "apps.imageview.activeColor=green"]
    )
    assert manifest(flipped, "Deployment", "webserver-blue")["spec"]["replicas"] == 0
    assert manifest(flipped, "Deployment", "webserver-green")["spec"]["replicas"] == 3


@pytest.mark.parametrize("active", ["blue", "green"])
def test_cutover_order(render_stack: Renderer, active: str) -> None:
    """Live Service waits for the active Deployment; the idle one waits for the Service."""
    r = render_stack("imageview", [f"apps.imageview.activeColor={active}"])
    idle = "green" if active == "blue" else "blue"
    live = one(r, SERVICE, "imageview-live")
    active_d = one(r, DEPLOYMENT, f"imageview-{active}")
    idle_d = one(r, DEPLOYMENT, f"imageview-{idle}")
    assert active_d.urn in live.dependencies
    assert live.urn in idle_d.dependencies
    assert live.urn not in active_d.dependencies


def _app(active: str, idle_replicas: int | None) -> AppSettings:
    settings = parsed(
        with_value(
            "apps.imageview.idleReplicas",
            idle_replicas if idle_replicas is not None else DELETE,
            with_value("apps.imageview.activeColor", active),
        )
    )
    return settings.apps["imageview"]


@pytest.mark.parametrize(
    ("active", "idle_replicas", "idle", "replicas"),
    [
        ("blue", None, "green", {"blue": 1, "green": 1}),
        ("blue", 0, "green", {"blue": 1, "green": 0}),
        ("green", 0, "blue", {"blue": 0, "green": 1}),
    ],
)
def test_idle_color_and_replicas(
    active: str, idle_replicas: int | None, idle: str, replicas: dict[str, int]
) -> None:
    app = _app(active, idle_replicas)
    assert cutover.idle_color(app) == idle
    assert {c: cutover.replicas(app, c) for c in ("blue", "green")} == replicas
    assert cutover.selector(app, "blue") == {
        "app": "imageview",
        "type": "webserver",
        "color": "blue",
    }
    assert cutover.app_labels(app).items() < cutover.selector(app, "green").items()

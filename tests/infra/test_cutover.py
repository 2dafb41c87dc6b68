"""infra/cutover.py: which color is live, how many pods each color runs, and the order a
cutover happens in; flipping activeColor changes only the Services."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import pytest

from infra import config, cutover
from infra.offline.program import Render
from infra.settings import AppSettings, Color, ConfigError
from tests.helpers import DEPLOYMENT, SERVICE, changed, manifest, one
from tests.infra.config.cases import DELETE, SECRETS, base, parsed, with_value

Renderer = Callable[..., Render]
JOB = "kubernetes:batch/v1:Job"
COLOR_NAMES: tuple[Color, Color] = ("blue", "green")
DELAY = "pulumi-python:dynamic/release:ScaleDownDelay"


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
    """The active Deployment is ready, its smoke Job passes through the color's own Service, the
    live Service moves, the pause, then the idle color."""
    r = render_stack("imageview", [f"apps.imageview.activeColor={active}"])
    idle = "green" if active == "blue" else "blue"
    live = one(r, SERVICE, "imageview-live")
    active_d = one(r, DEPLOYMENT, f"imageview-{active}")
    active_svc = one(r, SERVICE, f"imageview-{active}")
    check = one(r, JOB, f"imageview-smoke-{active}")
    pause = one(r, DELAY, "imageview-scale-down-delay")
    idle_d = one(r, DEPLOYMENT, f"imageview-{idle}")
    assert {active_d.urn, active_svc.urn} <= set(check.dependencies)
    assert check.urn in live.dependencies, "the live Service waits for the smoke Job"
    assert live.urn in pause.dependencies
    assert pause.urn in idle_d.dependencies
    assert live.urn not in active_d.dependencies
    idle_check = one(r, JOB, f"imageview-smoke-{idle}")
    assert idle_d.urn in idle_check.dependencies
    assert idle_check.urn not in live.dependencies, "the idle color's check gates nothing live"


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


# --------------------------------------------------------------------------- the live color

DIGEST = "gcr.io/hello-docker/imageview@sha256:" + "b" * 64
PINNED_SECRETS = {
    "imageview": {"id": "new", "key": "new", "colors": {"blue": {"id": "old", "key": "old"}}}
}


def _released(**changes: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """A config whose live color blue is pinned (image by digest, own secrets) and recorded, and
    the record, with ``changes`` (dotted paths) applied afterwards."""
    raw = with_value("apps.imageview.colors.blue", {"image": DIGEST})
    app = config.parse(raw, "test", PINNED_SECRETS).apps["imageview"]
    pin = dataclasses.asdict(cutover.pin_of(app, "blue"))
    raw = with_value("apps.imageview.release", {"live": pin}, raw)
    for path, value in changes.items():
        raw = with_value(path.replace("__", "."), value, raw)
    return raw, pin


def test_a_recorded_live_color_may_stay_as_it_is() -> None:
    raw, _ = _released()
    settings = config.parse(raw, "test", PINNED_SECRETS)
    assert settings.apps["imageview"].release.live is not None


@pytest.mark.parametrize(
    ("change", "key", "words"),
    [
        (
            {"apps__imageview__colors__blue": {"source": "apps/imageview/blue"}},
            "apps.imageview.colors.blue",
            "would change its image",
        ),
        (
            {"apps__imageview__colors__blue__image": "gcr.io/x/y@sha256:" + "c" * 64},
            "apps.imageview.colors.blue",
            "would change its image",
        ),
        (
            {"apps__imageview__env__EXTRA": "1"},
            "apps.imageview.colors.blue",
            "changes its env, ConfigMaps",
        ),
        (
            {"apps__imageview__configMaps__projectid": {"project.id": "other"}},
            "apps.imageview.colors.blue",
            "changes its env, ConfigMaps",
        ),
        (
            {"apps__imageview__resources": {"memoryLimit": "256Mi"}},
            "apps.imageview.colors.blue",
            "resources",
        ),
        (
            {"apps__imageview__activeColor": "green"},
            "apps.imageview.activeColor",
            "which no release started",
        ),
    ],
)
def test_an_update_that_would_change_the_live_color_is_refused(
    change: dict[str, Any], key: str, words: str
) -> None:
    raw, _ = _released(**change)
    with pytest.raises(ConfigError) as caught:
        config.parse(raw, "test", PINNED_SECRETS)
    message = str(caught.value)
    assert caught.value.key == key, message
    assert words in message and "python -m infra.release" in message, message
    assert "\n" not in message


def test_app_level_secret_values_would_restart_the_live_color() -> None:
    raw, _ = _released()
    with pytest.raises(ConfigError, match="reads the app-level secret values") as caught:
        config.parse(raw, "test", {"imageview": {"id": "NEW-ID-9", "key": "NEW-KEY-7"}})
    assert caught.value.key == "secrets.imageview"
    assert "NEW-ID-9" not in str(caught.value) and "NEW-KEY-7" not in str(caught.value)


def test_a_live_change_says_it_is_secret_with_a_field() -> None:
    raw, _ = _released()
    lifted = with_value("apps.imageview.release.allowLiveChange", True, raw)
    app = config.parse(lifted, "test", PINNED_SECRETS).apps["imageview"]
    app = dataclasses.replace(
        app, release=dataclasses.replace(app.release, allow_live_change=False)
    )
    change = cutover.live_change(app, own_secrets=())
    assert change is not None and change.secret and change.key == "secrets.imageview"
    assert cutover.live_change(app, own_secrets=("blue",)) is None
    moved = dataclasses.replace(app, active_color="green")
    change = cutover.live_change(moved, own_secrets=("blue",))
    assert change is not None and not change.secret and change.value == "green"


def test_what_a_release_may_change() -> None:
    """The idle color, the app's replicas (scaling restarts nothing), and with the live color
    pinned, app-level config and secrets (they reach only the idle color)."""
    for change in (
        {"apps__imageview__colors__green": {"source": "apps/imageview/green", "env": {"V": "2"}}},
        {"apps__imageview__replicas": 5},
        {"apps__imageview__idleReplicas": 0},
    ):
        raw, _ = _released(**change)
        config.parse(raw, "test", PINNED_SECRETS)


def test_the_cutover_itself_moves_traffic_to_the_unchanged_candidate() -> None:
    raw, live = _released()
    green = config.parse(raw, "test", PINNED_SECRETS).apps["imageview"]
    candidate = dataclasses.asdict(cutover.pin_of(green, "green"))
    raw = with_value("apps.imageview.release.candidate", candidate, raw)
    flipped = with_value("apps.imageview.activeColor", "green", raw)
    assert config.parse(flipped, "test", PINNED_SECRETS).apps["imageview"].active_color == "green"
    changed = with_value("apps.imageview.colors.green.env", {"V": "late"}, flipped)
    with pytest.raises(ConfigError, match=r"the candidate green .* changes its env"):
        config.parse(changed, "test", PINNED_SECRETS)
    assert live["color"] == "blue"


def test_the_previous_color_is_kept_for_a_rollback() -> None:
    raw, live = _released()
    previous = with_value("apps.imageview.release.previous", live, raw)
    app = config.parse(raw, "test", PINNED_SECRETS).apps["imageview"]
    green_pin = dataclasses.asdict(cutover.pin_of(app, "green"))
    promoted = with_value("apps.imageview.release.live", green_pin, previous)
    promoted = with_value("apps.imageview.activeColor", "green", promoted)
    promoted["apps"]["imageview"]["colors"]["green"] = {"source": "apps/imageview/green"}
    secrets = {
        "imageview": {
            **PINNED_SECRETS["imageview"],
            "colors": {"blue": {"id": "old", "key": "old"}, "green": {"id": "new", "key": "new"}},
        }
    }
    config.parse(promoted, "test", secrets)
    touched = with_value(
        "apps.imageview.colors.blue.image", "gcr.io/x/y@sha256:" + "d" * 64, promoted
    )
    with pytest.raises(ConfigError, match="the color kept for rollback blue"):
        config.parse(touched, "test", secrets)


def test_allow_live_change_lifts_the_rule_and_a_first_deploy_is_free() -> None:
    raw, _ = _released(apps__imageview__env__HOTFIX="1")
    allowed = with_value("apps.imageview.release.allowLiveChange", True, raw)
    config.parse(allowed, "test", PINNED_SECRETS)
    config.parse(base(), "test", SECRETS)


# --------------------------------------------------------------------------- a canary's share


def _canary(active: str = "blue", idle_replicas: int | None = 1, **release: Any) -> AppSettings:
    """The imageview app as a canary (3 pods a color), with ``release`` as its record."""
    raw = with_value("apps.imageview.strategy", "canary")
    raw = with_value("apps.imageview.service.type", DELETE, raw)
    raw = with_value("apps.imageview.replicas", 3, raw)
    raw = with_value("apps.imageview.activeColor", active, raw)
    if idle_replicas is not None:
        raw = with_value("apps.imageview.idleReplicas", idle_replicas, raw)
    if release:
        raw = with_value("apps.imageview.release", release, raw)
    return parsed(raw).apps["imageview"]


def _pin(color: str) -> dict[str, str]:
    return {"color": color, "image": DIGEST, "config": "c" * 64}


@pytest.mark.parametrize(
    ("active", "release", "shares", "tester"),
    [
        ("blue", {}, {"blue": 100, "green": 0}, "green"),
        ("green", {}, {"blue": 0, "green": 100}, "blue"),
        ("blue", {"candidate": _pin("green")}, {"blue": 100, "green": 0}, "green"),
        ("blue", {"candidate": _pin("green"), "weight": 5}, {"blue": 95, "green": 5}, "green"),
        ("green", {"candidate": _pin("blue"), "weight": 50}, {"blue": 50, "green": 50}, "blue"),
        ("blue", {"candidate": _pin("green"), "weight": 100}, {"blue": 0, "green": 100}, "green"),
    ],
)
def test_weights_follow_the_release_record(
    active: str, release: dict[str, Any], shares: dict[str, int], tester: str
) -> None:
    """The candidate gets the record's weight, the active color the rest; at rest the idle color
    keeps its place at 0, and the tester header reaches the candidate, else the idle color."""
    app = _canary(active, **release)
    weights = cutover.weights(app)
    assert weights == shares
    assert list(weights) == ["blue", "green"], "a fixed order: a shift changes numbers only"
    assert sum(weights.values()) == 100
    assert cutover.tester_color(app) == tester


def test_a_canary_candidate_and_the_color_it_replaces_run_full_size() -> None:
    """idleReplicas applies at rest; the candidate runs all its pods from start (before any
    weight), and after a promote the previous color keeps all of its own until finish."""
    at_rest = _canary()
    assert {c: cutover.replicas(at_rest, c) for c in COLOR_NAMES} == {"blue": 3, "green": 1}
    started = _canary(candidate=_pin("green"))
    assert {c: cutover.replicas(started, c) for c in COLOR_NAMES} == {"blue": 3, "green": 3}
    # (allowLiveChange: these pins stand for a record, not for what the colors run here)
    promoted = _canary("green", live=_pin("green"), previous=_pin("blue"), allowLiveChange=True)
    assert {c: cutover.replicas(promoted, c) for c in COLOR_NAMES} == {"blue": 3, "green": 3}
    finished = _canary("green", live=_pin("green"), allowLiveChange=True)
    assert {c: cutover.replicas(finished, c) for c in COLOR_NAMES} == {"blue": 1, "green": 3}


def test_a_blue_green_candidate_keeps_idle_replicas_until_promote() -> None:
    """Unchanged for blue/green: its smoke Job tests the idle size, promote scales it up."""
    raw = with_value("apps.imageview.idleReplicas", 1)
    raw = with_value("apps.imageview.replicas", 3, raw)
    raw = with_value("apps.imageview.release.candidate", _pin("green"), raw)
    app = parsed(raw).apps["imageview"]
    assert {c: cutover.replicas(app, c) for c in COLOR_NAMES} == {"blue": 3, "green": 1}


def test_a_share_goes_only_to_the_candidate_unchanged_since_start() -> None:
    raw, _ = _released(apps__imageview__strategy="canary", apps__imageview__service__type=DELETE)
    app = config.parse(raw, "test", PINNED_SECRETS).apps["imageview"]
    candidate = dataclasses.asdict(cutover.pin_of(app, "green"))
    raw = with_value("apps.imageview.release.candidate", candidate, raw)
    shifted = with_value("apps.imageview.release.weight", 25, raw)
    assert cutover.weights(config.parse(shifted, "test", PINNED_SECRETS).apps["imageview"]) == {
        "blue": 75,
        "green": 25,
    }
    changed = with_value("apps.imageview.colors.green.env", {"V": "late"}, shifted)
    with pytest.raises(ConfigError, match=r"the candidate green \(release.candidate, weight 25\)"):
        config.parse(changed, "test", PINNED_SECRETS)
    # At weight 0 the candidate takes no request: changing it is a new start, not a live change.
    restarted = with_value("apps.imageview.colors.green.env", {"V": "late"}, raw)
    config.parse(restarted, "test", PINNED_SECRETS)

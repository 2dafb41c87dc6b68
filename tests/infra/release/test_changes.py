"""infra/release/changes.py: two renders of the real program compared, each change named by what
it does to the app (rolls, scales, moves traffic, waits), whichever comparison finds it."""

from __future__ import annotations

from collections.abc import Callable

from infra.offline import program
from infra.release.changes import Change, How, diff, kubernetes_changes, pauses, resource_changes
from tests.infra.release.harness import of

Render = Callable[..., program.Render]


def test_the_same_render_changes_nothing(render_stack: Render) -> None:
    assert diff(render_stack("dev"), render_stack("dev")) == []


def test_replicas_scale_and_restart_nothing(render_stack: Render) -> None:
    changes = diff(render_stack("dev"), render_stack("dev", ["apps.kubia.replicas=5"]))
    assert of(changes) == {("scales", "Deployment", "blue"), ("scales", "Deployment", "green")}


def test_a_cutover_moves_traffic_then_waits(render_stack: Render) -> None:
    """With idleReplicas, the color traffic leaves scales down after scaleDownDelaySeconds."""
    idle = "apps.imageview.idleReplicas=1"
    before = render_stack("imageview", [idle])
    after = render_stack("imageview", [idle, "apps.imageview.activeColor=green"])
    assert of(kubernetes_changes(before, after)) == {
        ("moves traffic", "Service", None),
        ("re-targets", "Service", None),
        ("scales", "Deployment", "blue"),
        ("scales", "Deployment", "green"),
    }
    (pause,) = pauses(before, after)
    assert (pause.how, pause.seconds, pause.line().split()[:2]) == (How.WAITS, 30, ["waits", "30s"])
    assert resource_changes(before, after) == [pause], "no other resource changes"


def test_new_config_rolls_the_color_and_rechecks_it(render_stack: Render) -> None:
    before = render_stack("dev")
    after = render_stack("dev", ["apps.kubia.colors.green.env.V=2"])
    changes = of(diff(before, after))
    assert ("rolls", "Deployment", "green") in changes
    assert ("re-checks", "Job", "green") in changes
    assert not [c for c in changes if c[2] == "blue"]


def test_a_pinned_image_drops_its_build(render_stack: Render) -> None:
    digest = "gcr.io/hello-docker/imageview@sha256:" + "a" * 64
    after = render_stack("imageview", [f"apps.imageview.colors.blue.image={digest}"])
    (gone,) = resource_changes(render_stack("imageview"), after)
    assert (gone.kind, gone.name, gone.how) == ("Image", "imageview-blue-image", How.DELETES)


def test_a_change_reads_as_one_line() -> None:
    change = Change("Deployment", "kubia-green", How.ROLLS, "green")
    assert change.line() == "  rolls          Deployment kubia-green (green)"
    assert change.what() == "Deployment kubia-green (green)"
    assert Change("Image", "kubia-blue-image", How.DELETES, None).what() == "Image kubia-blue-image"

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


def test_every_resource_is_compared_by_urn_and_inputs(render_stack: Render) -> None:
    """A cluster input is a change too, the stack's own, named by its URN."""
    changes = diff(render_stack("dev"), render_stack("dev", ["cluster.zone=asia-northeast1-b"]))
    cluster = [c for c in changes if c.kind == "GCP Cluster"]
    assert [(c.name, c.how, c.app) for c in cluster] == [("gke-cluster", How.UPDATES, None)]
    assert cluster[0].urn.endswith(
        "gke-bluegreen:infra:Cluster$gcp:container/cluster:Cluster::gke-cluster"
    )
    assert not [c for c in changes if c.app is not None], "no app's object changes"


def test_each_change_knows_its_app_and_an_image_who_runs_it(render_stack: Render) -> None:
    before = render_stack("imageview")
    after = render_stack("imageview", ["apps.imageview.colors.green.source=apps/imageview/blue"])
    changes = diff(before, after)
    assert {c.app for c in changes} == {"imageview"}
    (gone,) = [c for c in changes if c.kind == "Image"]
    assert (gone.name, gone.how) == ("imageview-green-image", How.DELETES)
    assert gone.runs == {("imageview", "green")}, "who ran it before it goes"
    rolls = [c for c in changes if c.how is How.ROLLS]
    assert {(c.kind, c.color) for c in rolls} == {("Deployment", "green")}

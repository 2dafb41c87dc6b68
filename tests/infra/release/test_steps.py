"""infra/release/steps.py: whole release sequences on copies of the dev and imageview stack
files, each step's render diff touching exactly what it should (`pulumi up` simulated by
rendering the program), and steps out of order refused in the user's terms, writing nothing."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from infra.paths import ROOT
from infra.release import rendering
from infra.release.__main__ import main
from infra.release.changes import Change, How
from infra.release.document import StackFile
from infra.release.errors import ReleaseError
from infra.release.finish import finish_refusal, plan_finish
from infra.release.start import plan_start, start_refusal
from infra.release.switch import plan_promote, plan_rollback, traffic_only
from tests.helpers import manifest
from tests.infra.release.harness import SECURE, app_node, apply, deployed, of, outputs, up


def test_a_whole_release_of_imageview(project: Path) -> None:
    stack_file = project / "stacks/Pulumi.imageview.yaml"
    first = up(project, "imageview")

    # start: blue (live) pinned; green gets a new config; only green rolls.
    step = plan_start(
        "imageview",
        "imageview",
        outputs(first),
        sets=['apps.imageview.colors.green.configMaps.projectid["project.id"]=next'],
    )
    changes = apply(step)
    assert of(changes) == {
        ("rolls", "ConfigMap", "green"),
        ("deletes", "ConfigMap", "green"),
        ("rolls", "Deployment", "green"),
        ("re-checks", "Job", "green"),
        ("deletes", "Job", "green"),
        ("deletes", "Image", None),
    }, changes
    (gone,) = [c for c in changes if c.kind == "Image"]
    assert gone.name == "imageview-blue-image", "blue runs its pinned digest: no build"
    document = yaml.safe_load(stack_file.read_text())
    app = document["config"]["gke-bluegreen:apps"]["imageview"]
    assert app["release"]["live"]["color"] == "blue"
    assert app["release"]["live"]["image"] == outputs(first)["apps"]["imageview"]["images"]["blue"]
    assert app["release"]["candidate"]["color"] == "green"
    assert app["colors"]["blue"]["image"].startswith("gcr.io/hello-docker/imageview@sha256:")
    secrets = document["config"]["gke-bluegreen:secrets"]["imageview"]
    assert secrets["colors"]["blue"] == SECURE, "blue keeps its own encrypted copy"
    second = up(project, "imageview")

    # promote: only the Services move.
    changes = apply(plan_promote("imageview", "imageview"))
    assert of(changes) == {
        ("moves traffic", "Service", None),
        ("re-targets", "Service", None),
    }, changes
    third = up(project, "imageview")
    assert outputs(third)["apps"]["imageview"]["active_color"] == "green"

    # finish: green pinned by digest (no object changes), blue scaled down after.
    changes = apply(plan_finish("imageview", "imageview", outputs(third), None))
    assert of(changes) == {
        ("scales", "Deployment", "blue"),
        ("deletes", "Image", None),
        ("updates", "Pause", None),
    }, changes
    app = app_node(project, "imageview", "imageview")
    assert app["idleReplicas"] == 1 and "previous" not in app["release"]
    assert (
        app["release"]["live"]["image"] == outputs(second)["apps"]["imageview"]["images"]["green"]
    )
    up(project, "imageview")

    # rollback after finish: blue still runs the previous release; traffic goes back to it.
    changes = apply(plan_rollback("imageview", "imageview"))
    assert of(changes) == {
        ("moves traffic", "Service", None),
        ("re-targets", "Service", None),
        ("scales", "Deployment", "blue"),
        ("scales", "Deployment", "green"),
        ("waits 30s", "Pause", None),
    }, changes


def test_dev_release_and_rollback_before_finish(project: Path) -> None:
    """dev builds both colors of kubia from one folder: the first start pins blue by digest, so a
    code change reaches green only."""
    first = up(project, "dev")
    changes = apply(
        plan_start("dev", "kubia", outputs(first), sets=["apps.kubia.colors.green.env.V=2"])
    )
    assert {(c.how, c.kind, c.color) for c in changes if c.color} <= {
        ("rolls", "Deployment", "green"),
        ("re-checks", "Job", "green"),
        ("deletes", "Job", "green"),
    }
    assert not [c for c in changes if c.color == "blue"]
    up(project, "dev")
    apply(plan_promote("dev", "kubia"))
    up(project, "dev")
    changes = apply(plan_rollback("dev", "kubia"))
    # kubia is dev's canary: its route's weights follow the active color.
    assert of(changes) == {
        ("moves traffic", "Service", None),
        ("re-targets", "Service", None),
        ("updates", "HTTPRoute", None),
    }
    app = app_node(project, "dev", "kubia")
    assert app["activeColor"] == "blue" and app["release"]["live"]["color"] == "blue"
    assert app["release"]["candidate"]["color"] == "green", "green can be promoted again"
    assert "previous" not in app["release"]


def test_a_candidate_changed_after_start_is_refused_as_the_candidate(project: Path) -> None:
    """The candidate's source changed after `start`: what `pulumi up` checked is not what would
    go live. The refusal speaks of the candidate green, never of green as the live color."""
    apply(plan_start("imageview", "imageview", outputs(up(project, "imageview"))))
    file = StackFile("imageview")
    file.set("apps.imageview.colors.green.source=apps/imageview/blue")
    file.write()
    with pytest.raises(ReleaseError) as caught:
        plan_promote("imageview", "imageview")
    message = str(caught.value)
    assert message.startswith("the candidate green changed since `start` (its image is now src-")
    assert "run `start` again" in message and "live color" not in message, message
    file.set("apps.imageview.colors.green.source=apps/imageview/green")
    file.set("apps.imageview.colors.green.env.LATE=1")
    file.write()
    with pytest.raises(ReleaseError, match=r"candidate green changed .*\(its env, ConfigMaps"):
        plan_promote("imageview", "imageview")


@pytest.mark.parametrize(
    ("sets", "words"),
    [
        (
            ["apps.imageview.env.DEBUG=1"],
            "this start would change the live color blue too (its env, ConfigMaps, resources, "
            "ports or probes); a start changes only the idle color green: set env and ConfigMaps "
            "under apps.imageview.colors.green",
        ),
        (
            ["apps.imageview.activeColor=green"],
            "this start would move traffic to green (activeColor): traffic moves only with "
            "`promote`",
        ),
        (
            ["apps.imageview.colors.blue.image=gcr.io/x/y@sha256:" + "1" * 64],
            "this start would change the image of the live color blue too",
        ),
        (["apps.imageview.replicas=lots"], "this start gives a config the program refuses"),
    ],
)
def test_a_start_that_would_touch_the_live_color_says_so(
    project: Path, sets: list[str], words: str
) -> None:
    path = project / "stacks/Pulumi.imageview.yaml"
    before = path.read_text()
    with pytest.raises(ReleaseError) as caught:
        plan_start("imageview", "imageview", deployed("imageview"), sets=sets)
    assert str(caught.value).startswith(words), caught.value
    assert path.read_text() == before


def test_each_step_refuses_in_its_own_terms() -> None:
    """What each step may change, asked of its refusal (the diff's side of the rule)."""
    blue_rolls = Change("Deployment", "webserver-blue", How.ROLLS, "blue", app="a")
    traffic = Change("Service", "webserver", How.MOVES_TRAFFIC, None, app="a")
    green_rolls = Change("Deployment", "webserver-green", How.ROLLS, "green", app="a")
    start = start_refusal("a", "blue", "green")
    assert start(green_rolls) is None
    assert "the live color blue (Deployment webserver-blue (blue) rolls)" in str(start(blue_rolls))
    assert "only `promote` does" in str(start(traffic))
    promote = traffic_only("promote", "s", "a")
    assert promote(traffic) is None
    assert "a promote only moves traffic" in str(promote(green_rolls))
    finish = finish_refusal("s", "green", "blue", "a")
    assert finish(Change("Deployment", "webserver-blue", How.SCALES, "blue", app="a")) is None
    assert finish(Change("Image", "imageview-green-image", How.DELETES, None, app="a")) is None
    assert "a finish only pins the live color green" in str(finish(green_rolls))


def test_steps_out_of_order(project: Path) -> None:
    first = outputs(up(project, "imageview"))
    with pytest.raises(ReleaseError, match="has no release to promote: `start` one first"):
        plan_promote("imageview", "imageview")
    with pytest.raises(ReleaseError, match="nothing to roll back to"):
        plan_rollback("imageview", "imageview")
    with pytest.raises(ReleaseError, match="has nothing to finish"):
        plan_finish("imageview", "imageview", first, None)
    with pytest.raises(ReleaseError, match="is not deployed on stack imageview yet"):
        plan_start("imageview", "imageview", {})
    with pytest.raises(ReleaseError, match="--app 'ghost': stack imageview has no such app"):
        plan_start("imageview", "ghost", first)
    drifted = deployed("imageview", color="green")
    with pytest.raises(
        ReleaseError, match="the cluster serves green, but the stack file says blue"
    ):
        plan_start("imageview", "imageview", drifted)

    apply(plan_start("imageview", "imageview", first))
    with pytest.raises(
        ReleaseError, match=r"green is the candidate \(of a release not promoted yet"
    ):
        plan_rollback("imageview", "imageview")
    with pytest.raises(ReleaseError, match="candidate green of imageview is not promoted yet"):
        plan_finish("imageview", "imageview", first, None)
    apply(plan_promote("imageview", "imageview"))
    with pytest.raises(ReleaseError, match="candidate green is live already: `finish` to keep"):
        plan_promote("imageview", "imageview")
    with pytest.raises(ReleaseError, match="promoted and not finished: green is live and blue"):
        plan_start("imageview", "imageview", first)
    with pytest.raises(ReleaseError, match=r"cluster does not serve the new live color green"):
        plan_finish("imageview", "imageview", first, None)


def test_a_start_without_secrets_set_says_how_to_set_them(project: Path) -> None:
    path = project / "stacks/Pulumi.imageview.yaml"
    path.write_text(path.read_text().split("  gke-bluegreen:secrets:")[0])
    with pytest.raises(ReleaseError) as caught:
        plan_start("imageview", "imageview", deployed("imageview"))
    assert "pulumi config set --secret --path 'secrets.imageview.id' VALUE" in str(caught.value)


# ------------------------------------------------------------------ through the command line


def _start(project: Path, stack: str, app: str, *extra: str) -> list[str]:
    return ["start", "--stack", stack, "--app", app, "--outputs", str(up(project, stack)), *extra]


@pytest.mark.parametrize(
    ("extra", "words"),
    [
        (
            ["--set", "cluster.zone=asia-northeast1-b"],
            # The URN's stack and project are left out: the oldest SDK's mocks give
            # "stack::project".
            "it would change the stack's GCP Cluster gke-cluster (updates; urn:pulumi:",
        ),
        (
            ["--set", "cluster.zone=asia-northeast1-b"],
            "::gke-bluegreen:infra:Cluster$gcp:container/cluster:Cluster::gke-cluster), and a "
            "start of kubia changes only kubia's idle color green",
        ),
        (
            ["--set", "apps.node-app.colors.green.env.GREETING=x"],
            "it would change node-app's idle color green (Deployment node-app-green (green) "
            "rolls), and a start of kubia changes only kubia's idle color green",
        ),
        (
            ["--set", "apps.kubia.release.allowLiveChange=true"],
            "--set apps.kubia.release.allowLiveChange: apps.<app>.release is the release record",
        ),
        (
            ["--image", "nginx:src-0123456789ab"],
            "--image nginx:src-0123456789ab: stack dev deploys to GKE, where a pinned image must "
            "be by digest",
        ),
        (
            ["--set", "apps.kubia.colors.green.image=kubia:src-0123456789ab"],
            "apps.kubia.colors.green.image kubia:src-0123456789ab: stack dev deploys to GKE",
        ),
        (["--source", "/tmp"], "--source /tmp: outside the repository"),
    ],
)
def test_a_start_that_would_change_what_it_must_not_is_one_line(
    project: Path, capsys: pytest.CaptureFixture[str], extra: list[str], words: str
) -> None:
    path = project / "stacks/Pulumi.dev.yaml"
    before = path.read_text()
    assert main(_start(project, "dev", "kubia", *extra)) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and words in err, err
    assert path.read_text() == before, "nothing written"


def test_another_apps_live_color_is_guarded_after_a_finished_release(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """node-app has no release of its own, so the config does not protect its live color: the
    diff does."""
    common = ["--stack", "dev", "--app", "kubia"]
    assert main(_start(project, "dev", "kubia", "--set", "apps.kubia.colors.green.env.V=2")) == 0
    up(project, "dev")
    assert main(["promote", *common]) == 0
    assert main(["finish", *common, "--outputs", str(up(project, "dev"))]) == 0
    up(project, "dev")
    capsys.readouterr()
    path = project / "stacks/Pulumi.dev.yaml"
    before = path.read_text()
    extra = ["--set", "apps.node-app.colors.blue.env.GREETING=x"]
    assert main(_start(project, "dev", "kubia", *extra)) == 2
    err = capsys.readouterr().err
    assert "it would change node-app's live color blue (Deployment node-app-blue (blue) rolls)" in (
        err
    ), err
    assert path.read_text() == before


def test_a_pinned_tag_stays_allowed_on_the_local_platform(project: Path) -> None:
    shutil.copy(ROOT / "stacks/Pulumi.local.yaml", project / "stacks/Pulumi.local.yaml")
    extra = ["--image", "kubia:src-0123456789ab"]
    assert main(_start(project, "local", "kubia", *extra)) == 0
    node = app_node(project, "local", "kubia")
    assert node["colors"]["green"]["image"] == "kubia:src-0123456789ab"
    assert node["release"]["live"]["image"].startswith("kubia:src-"), "the local engine's tag"


def test_an_absolute_source_inside_the_repository_is_stored_relative(project: Path) -> None:
    extra = ["--source", str(ROOT / "apps/imageview/blue")]
    assert main(_start(project, "imageview", "imageview", *extra)) == 0
    green = app_node(project, "imageview", "imageview")["colors"]["green"]
    assert green["source"] == "apps/imageview/blue"


def test_a_second_rollback_after_finish_is_refused(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """After finish a rollback moves traffic back to the previous release; a second one must not
    move it back to the release just rolled back from."""
    common = ["--stack", "imageview", "--app", "imageview"]
    assert main(_start(project, "imageview", "imageview")) == 0
    up(project, "imageview")
    assert main(["promote", *common]) == 0
    assert main(["finish", *common, "--outputs", str(up(project, "imageview"))]) == 0
    up(project, "imageview")
    assert main(["rollback", *common]) == 0
    assert app_node(project, "imageview", "imageview")["activeColor"] == "blue"
    up(project, "imageview")
    capsys.readouterr()
    path = project / "stacks/Pulumi.imageview.yaml"
    before = path.read_text()
    assert main(["rollback", *common]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: nothing to roll back: traffic is on blue, and green is the ")
    assert "`promote` it to send traffic to green again, or `start` a new release" in err
    assert path.read_text() == before
    assert main(["promote", *common]) == 0, "the release rolled back from can be promoted again"


def test_promoting_a_canary_gives_it_every_request_and_ends_its_share(project: Path) -> None:
    """dev's kubia is a canary. A share recorded for the candidate (what `shift` will write) ends
    with promote: the candidate becomes live at weight 100 through the route, and the record's
    weight goes, so the stack file stays valid."""
    start = plan_start(
        "dev", "kubia", outputs(up(project, "dev")), sets=["apps.kubia.colors.green.env.V=2"]
    )
    apply(start)
    file = StackFile("dev")
    file.set("apps.kubia.release.weight=50")
    file.write()
    up(project, "dev")
    changes = apply(plan_promote("dev", "kubia"))
    assert of(changes) == {
        ("moves traffic", "Service", None),
        ("re-targets", "Service", None),
        ("updates", "HTTPRoute", None),
    }, changes
    app = app_node(project, "dev", "kubia")
    assert app["activeColor"] == "green" and "weight" not in app["release"]
    route = manifest(rendering.render("dev"), "HTTPRoute", "kubia")
    split = route["spec"]["rules"][1]["backendRefs"]
    assert [(b["name"], b["weight"]) for b in split] == [("kubia-blue", 0), ("kubia-green", 100)]

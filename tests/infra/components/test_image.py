"""infra/components/image.py: content tags, one build per source folder, pushed with a
short-lived token."""

from __future__ import annotations

from collections.abc import Callable

from infra.build_context import source_hash
from infra.offline.mocks import is_secret
from infra.offline.program import Render
from infra.paths import ROOT
from tests.helpers import IMAGE, container, plain

Renderer = Callable[..., Render]


def test_images_push_with_an_access_token_for_amd64(render_stack: Renderer) -> None:
    r = render_stack("dev")
    images = {x.name: x for x in r.of_type(IMAGE)}
    assert sorted(images) == ["kubia-image", "node-app-image", "py-web-server-image", "smoke-image"]
    kubia = images["kubia-image"]
    inputs = plain(kubia)
    assert inputs["build"]["platform"] == "linux/amd64"
    assert inputs["build"]["context"] == ".build/images/kubia", "its own staged context"
    assert inputs["build"]["dockerfile"] == ".build/images/kubia/kubia/Dockerfile"
    assert inputs["imageName"] == (
        f"asia-northeast1-docker.pkg.dev/gke-bluegreen-dev/apps/kubia:src-"
        f"{source_hash(ROOT / 'apps' / 'kubia')}"
    )
    assert inputs["registry"]["server"] == "asia-northeast1-docker.pkg.dev"
    assert inputs["registry"]["username"] == "oauth2accesstoken"
    assert is_secret(kubia.inputs["registry"]), "the token travels as a secret"
    assert inputs["registry"]["password"] == "mock-access-token"
    assert inputs.get("skipPush") is False


def test_both_colors_share_one_build_of_one_folder(render_stack: Renderer) -> None:
    r = render_stack("dev")
    blue, green = (container(r, f"kubia-{c}")["image"] for c in ("blue", "green"))
    assert blue == green and "@sha256:" in blue
    assert r.outputs["apps"]["kubia"]["images"] == {"blue": blue, "green": green}


def test_per_color_folders_build_per_color(render_stack: Renderer) -> None:
    r = render_stack("imageview")
    apps = [x for x in r.of_type(IMAGE) if x.name != "smoke-image"]
    assert sorted(x.name for x in apps) == ["imageview-blue-image", "imageview-green-image"]
    builds = sorted((plain(x)["build"]["context"], plain(x)["build"]["dockerfile"]) for x in apps)
    assert builds == [
        (".build/images/imageview-blue", ".build/images/imageview-blue/imageview/blue/Dockerfile"),
        (
            ".build/images/imageview-green",
            ".build/images/imageview-green/imageview/green/Dockerfile",
        ),
    ]


def test_pinning_the_live_color_keeps_its_image(render_stack: Renderer) -> None:
    pinned = "gcr.io/hello-docker/imageview@sha256:" + "a" * 64
    r = render_stack("imageview", [f"apps.imageview.colors.blue.image={pinned}"])
    assert container(r, "webserver-blue")["image"] == pinned
    assert container(r, "webserver-green")["image"].startswith("gcr.io/hello-docker/imageview@")
    images = [x.name for x in r.of_type("docker:index/image:Image") if x.name != "smoke-image"]
    assert images == ["imageview-green-image"], "the pinned color builds nothing"


def test_one_smoke_image_per_stack(render_stack: Renderer) -> None:
    r = render_stack("dev")
    (image,) = [x for x in r.of_type(IMAGE) if x.name == "smoke-image"]
    assert plain(image)["build"]["dockerfile"] == ".build/images/smoke/smoke/Dockerfile"
    jobs = r.of_type("kubernetes:batch/v1:Job")
    assert len(jobs) == 6, "one per color of each of dev's three apps"
    refs = {plain(j)["spec"]["template"]["spec"]["containers"][0]["image"] for j in jobs}
    assert refs == {image.outputs["repoDigest"]}
    off = render_stack(
        "dev", [f"apps.{a}.smoke.enabled=false" for a in ("kubia", "node-app", "py-web-server")]
    )
    assert not [x for x in off.of_type(IMAGE) if x.name == "smoke-image"]


def test_a_pinned_smoke_client_is_run_as_pinned_and_not_built(render_stack: Renderer) -> None:
    """``smoke.image`` of an app: its Jobs run the pin; the other apps' Jobs still run the one
    build, which a stack whose apps all pin their client does not make."""
    pinned = "asia-northeast1-docker.pkg.dev/gke-bluegreen-dev/apps/smoke@sha256:" + "c" * 64

    def clients(r: Render) -> dict[str, set[str]]:
        found: dict[str, set[str]] = {}
        for j in r.of_type("kubernetes:batch/v1:Job"):
            spec = plain(j)
            app = spec["metadata"]["labels"]["app"]
            found.setdefault(app, set()).add(
                spec["spec"]["template"]["spec"]["containers"][0]["image"]
            )
        return found

    built = render_stack("dev")
    (image,) = [x for x in built.of_type(IMAGE) if x.name == "smoke-image"]
    one = render_stack("dev", [f"apps.kubia.smoke.image={pinned}"])
    assert clients(one) == {
        "kubia": {pinned},
        "node-app": {image.outputs["repoDigest"]},
        "py-web-server": {image.outputs["repoDigest"]},
    }
    every = render_stack(
        "dev", [f"apps.{a}.smoke.image={pinned}" for a in ("kubia", "node-app", "py-web-server")]
    )
    assert set(clients(every)) == {"kubia", "node-app", "py-web-server"}
    assert all(refs == {pinned} for refs in clients(every).values())
    assert not [x for x in every.of_type(IMAGE) if x.name == "smoke-image"]
    # The Job's name holds the client it runs, however it was given: the pin of the very digest
    # the stack builds names the same Jobs as the build.
    same = render_stack(
        "dev",
        [
            f"apps.{a}.smoke.image={image.outputs['repoDigest']}"
            for a in ("kubia", "node-app", "py-web-server")
        ],
    )

    def names(r: Render) -> list[str]:
        return sorted(plain(j)["metadata"]["name"] for j in r.of_type("kubernetes:batch/v1:Job"))

    assert names(same) == names(built)
    assert names(every) != names(built)


def test_the_outputs_say_what_each_built_color_was_built_from(render_stack: Renderer) -> None:
    """apps.<app>.tags: the content tag beside each built color's digest; a pinned color built
    nothing, so it has none (the release tool matches deployed digests to builds by them)."""
    tag = f"src-{source_hash(ROOT / 'apps' / 'kubia')}"
    assert render_stack("dev").outputs["apps"]["kubia"]["tags"] == {"blue": tag, "green": tag}
    pinned = "gcr.io/hello-docker/imageview@sha256:" + "a" * 64
    r = render_stack("imageview", [f"apps.imageview.colors.blue.image={pinned}"])
    green = f"src-{source_hash(ROOT / 'apps' / 'imageview' / 'green')}"
    assert r.outputs["apps"]["imageview"]["tags"] == {"green": green}

"""infra/image.py: content tags, one build per source folder, pushed with a short-lived token."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

from infra.config import ROOT
from infra.image import source_hash
from infra.mocks import is_secret
from infra.render import Render
from tests.program.helpers import IMAGE, container, plain

Renderer = Callable[..., Render]


def test_source_hash_follows_content(tmp_path: Path) -> None:
    src = tmp_path / "app"
    shutil.copytree(ROOT / "apps" / "kubia", src)
    first = source_hash(src)
    assert first == source_hash(src)
    (src / "__pycache__").mkdir()
    (src / "__pycache__" / "x.pyc").write_bytes(b"cache")
    assert source_hash(src) == first, "caches are not part of the image identity"
    (src / "app.js").write_text((src / "app.js").read_text() + "\n// edit\n")
    assert source_hash(src) != first


def test_images_push_with_an_access_token_for_amd64(render_stack: Renderer) -> None:
    r = render_stack("dev")
    images = {x.name: x for x in r.of_type(IMAGE)}
    assert sorted(images) == ["kubia-image", "node-app-image", "py-web-server-image"]
    kubia = images["kubia-image"]
    inputs = plain(kubia)
    assert inputs["build"]["platform"] == "linux/amd64"
    assert inputs["build"]["context"] == "apps/kubia", "relative to the project"
    assert inputs["build"]["dockerfile"] == "apps/kubia/Dockerfile"
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
    names = sorted(x.name for x in r.of_type(IMAGE))
    assert names == ["imageview-blue-image", "imageview-green-image"]
    contexts = sorted(plain(x)["build"]["context"] for x in r.of_type(IMAGE))
    assert contexts == ["apps/imageview/blue", "apps/imageview/green"]

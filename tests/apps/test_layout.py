"""The source folders in apps/ keep the contract the Pulumi program and Kubernetes rely on.

Every image is built with the context apps/ and the Dockerfile of its source folder; the
Dockerfile's own Dockerfile.dockerignore allow-lists exactly what it copies, which is the
folder's own files plus shared code under apps/lib/ (kept there once, never copied around).
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from pathlib import Path

import pytest

from infra.build_context import allow_list
from tests.delivery.locks import parse_lock

ROOT = Path(__file__).resolve().parents[2]
APPS = ROOT / "apps"
SOURCES = {
    "py-web-server": ("python:3.12-slim-bookworm", 8888),
    "node-app": ("node:22-bookworm-slim", 8080),
    "kubia": ("node:22-bookworm-slim", 8080),
    "imageview/blue": ("node:22-bookworm-slim", 8080),
    "imageview/green": ("node:22-bookworm-slim", 8080),
}
NODE_SOURCES = [s for s, (base, _) in SOURCES.items() if base.startswith("node")]
#: One-shot clients (the smoke Job's): no port, no health check, the exit code is the result.
CLIENTS = {"smoke": "python:3.12-slim-bookworm"}
IMAGES = [*SOURCES, *CLIENTS]


def _instructions(source: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) of a Dockerfile, comments dropped, continuations joined."""
    text = (APPS / source / "Dockerfile").read_text()
    text = re.sub(r"\\\n", " ", text)
    out = []
    for line in text.splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            word, _, rest = line.strip().partition(" ")
            out.append((word.upper(), rest.strip()))
    return out


def _copies(source: str) -> list[tuple[list[str], str]]:
    """(sources, destination) of every COPY from the build context (not ``--from`` a stage)."""
    out = []
    for word, arg in _instructions(source):
        if word == "COPY" and not arg.startswith("--from"):
            *srcs, dest = arg.split()
            out.append((srcs, dest))
    return out


@pytest.mark.parametrize("source", SOURCES)
def test_dockerfile_contract(source: str) -> None:
    base, port = SOURCES[source]
    steps = _instructions(source)
    assert steps[0] == ("ARG", f"BASE_IMAGE={base}"), f"{source}: first step {steps[0]}"
    assert steps[1][0] == "FROM" and steps[1][1].startswith("${BASE_IMAGE}")
    froms = [arg for word, arg in steps if word == "FROM"]
    assert all(f.startswith("${BASE_IMAGE}") for f in froms), f"{source}: {froms}"
    final = steps[len(steps) - 1 - [w for w, _ in reversed(steps)].index("FROM") :]
    users = [arg for word, arg in final if word == "USER"]
    assert users == ["10001:10001"], f"{source}: final stage USER {users}"
    assert ("EXPOSE", str(port)) in final
    cmd = [arg for word, arg in final if word == "CMD"]
    assert len(cmd) == 1 and isinstance(json.loads(cmd[0]), list), f"{source}: CMD not exec form"
    assert any(word == "HEALTHCHECK" for word, _ in final)
    assert not any(word in ("ADD", "ENTRYPOINT") for word, _ in steps)


@pytest.mark.parametrize("source", CLIENTS)
def test_client_dockerfile_contract(source: str) -> None:
    steps = _instructions(source)
    assert steps[0] == ("ARG", f"BASE_IMAGE={CLIENTS[source]}"), f"{source}: first step {steps[0]}"
    froms = [arg for word, arg in steps if word == "FROM"]
    assert froms and all(f.startswith("${BASE_IMAGE}") for f in froms), f"{source}: {froms}"
    final = steps[len(steps) - 1 - [w for w, _ in reversed(steps)].index("FROM") :]
    assert [arg for word, arg in final if word == "USER"] == ["10001:10001"]
    assert ("HEALTHCHECK", "NONE") in final, f"{source}: a client has nothing to probe"
    assert not any(word == "EXPOSE" for word, _ in final), f"{source}: a client listens on nothing"
    cmd = [arg for word, arg in final if word == "CMD"]
    assert len(cmd) == 1 and isinstance(json.loads(cmd[0]), list), f"{source}: CMD not exec form"
    assert not any(word in ("ADD", "ENTRYPOINT") for word, _ in steps)


@pytest.mark.parametrize("source", IMAGES)
def test_allow_list_admits_exactly_what_is_copied(source: str) -> None:
    # The same reader the program hashes the image's inputs with (infra/build_context.py).
    allowed = set(allow_list(APPS / source, APPS))
    copied = {src for srcs, _ in _copies(source) for src in srcs}
    assert allowed == copied, f"{source}: allowed {allowed} but COPY uses {copied}"
    for path in copied:
        assert (APPS / path).is_file(), f"{source}: COPY {path}: no such file under apps/"
        own = path.startswith(f"{source}/")
        assert own or path.startswith("lib/"), f"{source}: {path} is another app's file"


@pytest.mark.parametrize("source", NODE_SOURCES)
def test_node_images_mirror_apps_under_app(source: str) -> None:
    """/app/<path> in the image is apps/<path>, so relative requires and the CMD work the same
    in the repository (tests/apps run them there) and in the image."""
    for srcs, dest in _copies(source):
        for src in srcs:
            assert dest == f"/app/{src.rsplit('/', 1)[0]}/", f"{source}: COPY {src} {dest}"
    steps = dict(_instructions(source))
    assert steps["WORKDIR"] == "/app"
    script = json.loads(steps["CMD"])[1]
    assert (APPS / script).is_file(), f"{source}: CMD runs {script}, not a file under apps/"


def test_context_root_ignore_file_admits_the_union_of_the_allow_lists() -> None:
    """Builders that skip Dockerfile.dockerignore read apps/.dockerignore instead: Docker's legacy
    builder, and pulumi-docker's docker.Image, which looks for ``<context>/<name of the
    Dockerfile>.dockerignore`` (``.dockerignore`` for any file named Dockerfile). It must admit
    what every image is built from, and nothing else."""
    union = {path for source in IMAGES for path in allow_list(APPS / source, APPS)}
    lines = [x for x in (APPS / ".dockerignore").read_text().splitlines() if x.strip()]
    entries = [x for x in lines if not x.startswith("#")]
    assert entries[0] == "*", "apps/.dockerignore must start from deny-all"
    admitted = {x.removeprefix("!") for x in entries[1:] if x.startswith("!")}
    assert len(admitted) == len(entries) - 1, f"only '!<path>' lines after '*': {entries}"
    assert admitted == union, (
        f"apps/.dockerignore admits {sorted(admitted - union)} no image uses and misses "
        f"{sorted(union - admitted)}"
    )
    stray = [p for p in APPS.rglob(".dockerignore") if p.parent != APPS]
    assert not stray, f"folder-level .dockerignore files are never read: {stray}"
    sources = {p.parent.relative_to(APPS).as_posix() for p in APPS.rglob("Dockerfile")}
    assert sources == set(IMAGES), "every Dockerfile under apps/ is an image this file checks"


def _source_files() -> list[Path]:
    """Every file under apps/ but caches and installed dependencies."""
    skip = {"__pycache__", "node_modules", ".pytest_cache"}
    return [p for p in APPS.rglob("*") if p.is_file() and not skip & set(p.parts)]


def test_no_file_in_apps_is_a_copy_of_another() -> None:
    by_content: dict[bytes, list[str]] = defaultdict(list)
    for path in _source_files():
        by_content[path.read_bytes()].append(path.relative_to(APPS).as_posix())
    copies = [names for names in by_content.values() if len(names) > 1]
    assert not copies, f"identical files (keep one under apps/lib/ instead): {copies}"
    assert [p.name for p in _source_files()].count("lifecycle.js") == 1


def test_python_image_writes_nothing_at_run_time() -> None:
    env = " ".join(arg for word, arg in _instructions("py-web-server") if word == "ENV")
    assert "PYTHONDONTWRITEBYTECODE=1" in env


def test_tornado_pin_is_the_same_for_the_image_and_the_tests() -> None:
    app = parse_lock((APPS / "py-web-server/requirements.txt").read_text())["tornado"]
    dev = parse_lock((ROOT / "requirements-dev.txt").read_text())["tornado"]
    assert app.version is not None and app.version == dev.version, (app, dev)
    assert app.hashes, "the image installs tornado with --require-hashes"


def test_imageview_colors_hold_only_what_differs() -> None:
    for color in ("blue", "green"):
        names = sorted(p.name for p in (APPS / "imageview" / color).iterdir())
        assert names == ["Dockerfile", "Dockerfile.dockerignore", "color.json"], f"{color}: {names}"
    for name in ("Dockerfile", "Dockerfile.dockerignore"):
        blue = (APPS / "imageview/blue" / name).read_text().replace("blue", "COLOR")
        green = (APPS / "imageview/green" / name).read_text().replace("green", "COLOR")
        assert blue == green, f"imageview {name} differs between colors beyond the color name"
    colors = [
        json.loads((APPS / f"imageview/{c}/color.json").read_text()) for c in ("blue", "green")
    ]
    assert [c["name"] for c in colors] == ["blue", "green"]
    assert colors[0]["background"] != colors[1]["background"]


@pytest.mark.parametrize("package", ["node-app", "kubia", "lib/imageview"])
def test_node_apps_need_no_packages(package: str) -> None:
    manifest = json.loads((APPS / package / "package.json").read_text())
    assert manifest["dependencies"] == {}
    assert manifest["private"] is True

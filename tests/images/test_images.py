"""The image tier: the seed labs' build / run / push / pull / run-anywhere loop, for real.

A Docker engine (started when missing), local base images built with debootstrap (reused when
present), every app image built like the program builds it (context apps/, ``-f
<source>/Dockerfile``, BuildKit so the Dockerfile's own ``Dockerfile.dockerignore`` applies) with
``--build-arg BASE_IMAGE=...``, run like the labs on
loopback ports, pushed to the registry on 127.0.0.1:5000, deleted locally, pulled and run again.
Containers, app images and pushed data are removed afterwards; the base images stay as a cache.

Where no engine can be had the tier is skipped with the reason; under ``CI=true`` it fails
instead, so CI never passes without having built and run the images.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import subprocess
import tarfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import pytest

from infra.build_context import allow_list, stage
from tests.images.docker_tools import (
    APPS,
    NODE_BASE,
    PYTHON_BASE,
    REGISTRY,
    REGISTRY_CONFIG,
    REGISTRY_ROOT,
    ROOT,
    build,
    docker,
    http_get,
)

pytestmark = pytest.mark.image

#: Planted in every folder of the build context copy; no image may contain it.
PLANTED_SECRET = "planted-" + secrets.token_hex(12)
#: What a careless developer leaves next to the code, planted in every folder of the copy.
PLANTED_FILES = (".env", "id_rsa", "notes-with-secret.txt")


@dataclass(frozen=True)
class AppImage:
    """One app image built for this run."""

    app: str
    source: str
    """Source folder under apps/ (its Dockerfile); the build context is always apps/."""
    base: str
    port: int
    tag: str


def planted_apps_copy(dest: Path) -> Path:
    """A copy of apps/ with a secret planted in every folder (the other apps' folders, lib/ and
    the context root included): only the allow-list of the Dockerfile built may reach a build."""
    shutil.copytree(APPS, dest)
    for folder in [dest, *(p for p in dest.rglob("*") if p.is_dir())]:
        for name in PLANTED_FILES:
            (folder / name).write_text(f"SECRET_KEY={PLANTED_SECRET}\n")
    return dest


@pytest.fixture(scope="session")
def run_id() -> str:
    return "gkebg-it-" + secrets.token_hex(4)


@pytest.fixture(scope="session")
def images(
    bases: None, run_id: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, AppImage]]:
    """Every app image, built from a copy of apps/ with secrets planted in every folder."""
    specs = [
        ("py-web-server", "py-web-server", PYTHON_BASE, 8888),
        ("node-app", "node-app", NODE_BASE, 8080),
        ("kubia", "kubia", NODE_BASE, 8080),
        ("imageview-blue", "imageview/blue", NODE_BASE, 8080),
        ("imageview-green", "imageview/green", NODE_BASE, 8080),
    ]
    dangling_before = set(docker("images", "-q", "--filter", "dangling=true").split())
    built: dict[str, AppImage] = {}
    ctx = planted_apps_copy(tmp_path_factory.mktemp("images") / "apps")
    try:
        for app, source, base, port in specs:
            tag = f"{run_id}/{app}:v1"
            # --network host: the build's pip reaches the package index through the host's
            # network; the engine gives containers no outside network of their own.
            build("-q", "--network", "host", "--build-arg", f"BASE_IMAGE={base}",
                  "-f", str(ctx / source / "Dockerfile"), "-t", tag, str(ctx))  # fmt: skip
            built[app] = AppImage(app, source, base, port, tag)
        yield built
    finally:
        for ref in docker("images", "--format", "{{.Repository}}:{{.Tag}}").split():
            if ref.startswith((f"{run_id}/", f"{REGISTRY}/{run_id}/")):
                docker("rmi", "-f", ref, check=False)
        dangling_after = set(docker("images", "-q", "--filter", "dangling=true").split())
        for image_id in dangling_after - dangling_before:
            docker("rmi", "-f", image_id, check=False)


@dataclass(frozen=True)
class Container:
    """A running container and the loopback URL of its published port."""

    id: str
    url: str

    def logs(self) -> str:
        proc = subprocess.run(
            ["docker", "logs", self.id], capture_output=True, text=True, check=True, timeout=30
        )
        return proc.stdout + proc.stderr


#: The ``run_container`` fixture: ``run_container(image, port, *docker_run_args)``.
RunContainer = Callable[..., Container]


@pytest.fixture
def run_container(run_id: str) -> Iterator[RunContainer]:
    """``run_container(image, port, *docker_run_args)``: runs it detached like the labs, with the
    port published on loopback only and the restrictions Kubernetes' restricted policy asks for
    (read-only root filesystem, no capabilities, no privilege escalation)."""
    started: list[str] = []

    def run(image: str, port: int, *args: str) -> Container:
        cid = docker(
            "run", "-d", "--label", f"gkebg.it={run_id}", "-p", f"127.0.0.1::{port}",
            "--read-only", "--cap-drop", "ALL", "--security-opt", "no-new-privileges",
            *args, image,
        ).strip()  # fmt: skip
        started.append(cid)
        host_port = docker("port", cid, f"{port}/tcp").split()[0].rsplit(":", 1)[1]
        container = Container(cid, f"http://127.0.0.1:{host_port}")
        deadline = time.monotonic() + 15
        while True:
            try:
                if http_get(container.url + "/readyz", timeout=1)[0] == 200:
                    return container
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise AssertionError(f"{image} never became ready:\n{container.logs()}")
            time.sleep(0.1)

    yield run
    for cid in started:
        docker("rm", "-f", cid, check=False)


def registry_cleanup(run_id: str, digests: dict[str, str]) -> None:
    """Deletes what this run pushed: manifests through the registry API, then (when the
    registry's storage is ours) the repositories and the blobs no manifest uses any more."""
    for repo, digest in digests.items():
        req = urllib.request.Request(
            f"http://{REGISTRY}/v2/{repo}/manifests/{digest}", method="DELETE"
        )
        try:
            urllib.request.urlopen(req, timeout=10).close()  # loopback only
        except urllib.error.HTTPError as err:
            if err.code != 404:
                raise
    ours = REGISTRY_ROOT / "docker/registry/v2/repositories" / run_id
    if ours.is_dir():
        shutil.rmtree(ours)
        subprocess.run(
            ["docker-registry", "garbage-collect", "--delete-untagged", str(REGISTRY_CONFIG)],
            capture_output=True,
            check=False,
            timeout=120,
        )


def image_exists(ref: str) -> bool:
    probe = subprocess.run(["docker", "image", "inspect", ref], capture_output=True, check=False)
    return probe.returncode == 0


def catalog() -> list[str]:
    answer = json.loads(http_get(f"http://{REGISTRY}/v2/_catalog?n=1000")[2])
    return [str(name) for name in answer["repositories"]]


# --- the labs ------------------------------------------------------------------------------


def test_s1_py_web_server_answers_with_the_container_hostname(
    images: dict[str, AppImage], run_container: RunContainer
) -> None:
    # docker run -d -p 8888:8888 --name py-web-server -h my-web-server py-web-server:v1
    image = images["py-web-server"]
    web = run_container(image.tag, 8888, "-h", "my-web-server")
    assert http_get(web.url)[2] == b"Hostname: my-web-server\n"
    assert '"GET / HTTP/1.1" 200 ' in web.logs()


def test_s2_node_app_both_versions_side_by_side(
    images: dict[str, AppImage], run_container: RunContainer
) -> None:
    image = images["node-app"].tag
    v01 = run_container(image, 8080)
    v02 = run_container(image, 8080, "-e", "GREETING=Welcome to Cloud")
    assert http_get(v01.url)[2] == b"Hello World\n"
    assert http_get(v02.url)[2] == b"Welcome to Cloud\n"
    assert "Server running at http://0.0.0.0:8080/" in v01.logs()


def test_s3_kubia_answers_with_the_container_name_and_logs_requests(
    images: dict[str, AppImage], run_container: RunContainer
) -> None:
    kubia = run_container(images["kubia"].tag, 8080)
    hostname = docker("inspect", "-f", "{{.Config.Hostname}}", kubia.id).strip()
    assert http_get(kubia.url)[2] == f"you've hit {hostname}\n".encode()
    logs = kubia.logs()
    assert logs.startswith("Kubia server starting...\n")
    assert "Received request from " in logs and '"GET / HTTP/1.1" 200 ' in logs


@pytest.mark.parametrize("color", ["blue", "green"])
def test_s4_imageview_colors_show_config_and_never_the_key(
    images: dict[str, AppImage], run_container: RunContainer, color: str
) -> None:
    key = secrets.token_hex(16)
    view = run_container(
        images[f"imageview-{color}"].tag, 8080,
        "-e", "PROJECT_ID=hello-docker", "-e", "SECRET_ID=asa", "-e", f"SECRET_KEY={key}",
    )  # fmt: skip
    status, headers, body = http_get(view.url)
    page = body.decode()
    assert (status, headers["x-imageview-color"]) == (200, color)
    assert f"<h1>{color}</h1>" in page
    assert '<dd id="project-id">hello-docker</dd>' in page
    assert '<dd id="secret-id">asa</dd>' in page
    assert key not in page + json.dumps(headers) + view.logs()


def test_sigterm_stops_every_container_cleanly(
    images: dict[str, AppImage], run_container: RunContainer
) -> None:
    """`docker stop` sends SIGTERM to PID 1 (the app itself): it drains and exits 0."""
    for image in images.values():
        box = run_container(image.tag, image.port)
        docker("stop", "-t", "10", box.id)
        state = json.loads(docker("inspect", "-f", "{{json .State}}", box.id))
        assert state["ExitCode"] == 0, f"{image.app} exited {state['ExitCode']}"
        assert "SIGTERM received, draining" in box.logs()
        assert "stopped (drained)" in box.logs()


# --- what is inside the images ------------------------------------------------------------


def test_images_run_as_non_root_with_the_app_as_pid_1(
    images: dict[str, AppImage], run_container: RunContainer
) -> None:
    for image in images.values():
        config = json.loads(docker("image", "inspect", "-f", "{{json .Config}}", image.tag))
        assert config["User"] == "10001:10001", f"{image.app}: USER {config['User']!r}"
        box = run_container(image.tag, image.port)
        assert docker("exec", box.id, "id", "-u").strip() == "10001"
        # Exec-form CMD: PID 1 is the app itself, not a shell that would swallow SIGTERM.
        pid1 = docker("exec", box.id, "cat", "/proc/1/cmdline").split("\0")[0]
        assert pid1 in ("node", "python3"), f"{image.app}: PID 1 is {pid1!r}"
        # The HEALTHCHECK command works inside the image (as the same user, read-only root).
        check = config["Healthcheck"]["Test"]
        assert check[0] == "CMD", f"{image.app}: HEALTHCHECK {check}"
        docker("exec", box.id, *check[1:])


def _regular_file(archive: tarfile.TarFile, member: str | tarfile.TarInfo) -> IO[bytes]:
    """A regular file of ``archive`` (``extractfile`` gives None for links and folders)."""
    data = archive.extractfile(member)
    assert data is not None, f"{member} is not a regular file"
    return data


def _added_files(
    images: dict[str, AppImage], tmp_path: Path
) -> dict[str, tuple[dict[str, Any], dict[str, bytes]]]:
    """Per app: the image config and every file its own layers add on top of its base.

    One `docker save` for all images, so the layers the images share are written once.
    """
    archive = tmp_path / "images.tar"
    docker("save", "-o", str(archive), *(image.tag for image in images.values()))
    found: dict[str, tuple[dict[str, Any], dict[str, bytes]]] = {}
    with tarfile.open(archive) as outer:
        manifests = json.load(_regular_file(outer, "manifest.json"))
        for image in images.values():
            manifest = next(m for m in manifests if image.tag in (m["RepoTags"] or []))
            config = json.load(_regular_file(outer, manifest["Config"]))
            base = json.loads(docker("image", "inspect", "-f", "{{json .RootFS.Layers}}",
                                     image.base))  # fmt: skip
            files: dict[str, bytes] = {}
            for name in manifest["Layers"][len(base) :]:
                with tarfile.open(fileobj=_regular_file(outer, name)) as layer:
                    for member in layer.getmembers():
                        if member.isfile():
                            files[member.name] = _regular_file(layer, member).read()
                        elif not member.isdir():
                            files[member.name] = member.linkname.encode()
            found[image.app] = (config, files)
    archive.unlink()
    return found


def test_no_secret_or_build_tool_is_baked_into_an_image(
    images: dict[str, AppImage], tmp_path: Path
) -> None:
    for app, (config, files) in _added_files(images, tmp_path).items():
        image = images[app]
        env_names = [e.split("=", 1)[0] for e in config["config"]["Env"]]
        assert not [n for n in env_names if re.search("SECRET|KEY|TOKEN|PASSW", n)], env_names
        assert PLANTED_SECRET not in json.dumps(config)
        leaked = [n for n, data in files.items() if PLANTED_SECRET.encode() in data]
        assert not leaked, f"{image.app}: planted secret inside {leaked}"
        assert not [n for n in files if n.endswith(PLANTED_FILES)], sorted(files)
        if image.app == "py-web-server":
            assert "app/web_server.py" in files
            assert all(n.startswith(("opt/venv/", "app/")) for n in files), sorted(files)
            assert not [n for n in files if n.startswith("opt/venv/bin/pip")], "pip left behind"
            assert any("/site-packages/tornado/" in n for n in files)
        else:
            # Exactly the allow-list, at the same paths under /app as under apps/.
            expected = {f"app/{p}" for p in allow_list(APPS / image.source, APPS)}
            assert set(files) == expected, f"{image.app}: {sorted(files)}"


def test_build_context_holds_only_the_allow_list(
    images: dict[str, AppImage], run_id: str, tmp_path: Path
) -> None:
    """What BuildKit is sent at all: each source's Dockerfile swapped for one that copies the
    whole context (``COPY . /ctx/``) and lists it. With the real Dockerfile.dockerignore beside
    it, the context is exactly the allow-list: no planted secret, no other app's or color's file,
    not even the Dockerfile."""
    ctx = planted_apps_copy(tmp_path / "apps")
    for image in images.values():
        (ctx / image.source / "Dockerfile").write_text(
            "FROM gkebg-local/debian:bookworm\nCOPY . /ctx/\n"
        )
        tag = f"{run_id}/context-probe:{image.app}"
        build("-q", "-f", str(ctx / image.source / "Dockerfile"), "-t", tag, str(ctx))
        try:
            listing = docker("run", "--rm", "--network", "none", tag, "find", "/ctx", "-type", "f")
        finally:
            docker("rmi", tag, check=False)
        sent = sorted(p.removeprefix("/ctx/") for p in listing.split())
        assert sent == sorted(allow_list(APPS / image.source, APPS)), f"{image.app}: {sent}"


def test_a_builder_without_per_dockerfile_ignore_files_gets_only_the_union(
    bases: None, run_id: str, tmp_path: Path
) -> None:
    """The legacy builder reads only apps/.dockerignore, as pulumi-docker's docker.Image does
    (the Pulumi program's builds): it is sent the union of the allow-lists (plus the Dockerfile
    and the ignore file, which such builders always send), never a planted secret."""
    ctx = planted_apps_copy(tmp_path / "apps")
    (ctx / "kubia/Dockerfile").write_text(f"FROM {NODE_BASE}\nCOPY . /ctx/\n")
    tag = f"{run_id}/legacy-probe:v1"
    legacy = subprocess.run(
        ["docker", "build", "-q", "-f", str(ctx / "kubia/Dockerfile"), "-t", tag, str(ctx)],
        env={**os.environ, "DOCKER_BUILDKIT": "0"}, capture_output=True, text=True,
        timeout=300, check=False,
    )  # fmt: skip
    assert legacy.returncode == 0, legacy.stderr
    try:
        listing = docker("run", "--rm", "--network", "none", tag, "find", "/ctx", "-type", "f")
    finally:
        docker("rmi", tag, check=False)
    sent = {p.removeprefix("/ctx/") for p in listing.split()} - {
        ".dockerignore",
        "kubia/Dockerfile",
    }
    sources = [d.parent for d in APPS.rglob("Dockerfile")]
    union = {path for source in sources for path in allow_list(source, APPS)}
    assert sent == union, (
        f"sent {sorted(sent - union)} beyond the union; missing {sorted(union - sent)}"
    )


def test_each_image_builds_from_what_pulumi_docker_sends(
    images: dict[str, AppImage], run_id: str, tmp_path: Path
) -> None:
    """The Pulumi program stages one context per image (infra.build_context.stage) and
    pulumi-docker tars that folder whole (it holds no .dockerignore) and uploads it to BuildKit.
    The same tar, built the same way, must yield each image with exactly its allow-list."""
    for image in images.values():
        staged = stage(APPS / image.source, APPS, tmp_path / "staged")
        assert not (staged / ".dockerignore").exists()
        archive = tmp_path / f"{image.app}.tar"
        # Plain ustar: the docker CLI recognises a context archive on stdin by its first header.
        with tarfile.open(archive, "w", format=tarfile.USTAR_FORMAT) as tar:
            for path in sorted(p for p in staged.rglob("*") if p.is_file()):
                tar.add(path, arcname=path.relative_to(staged).as_posix())
        tag = f"{run_id}/uploaded:{image.app}"
        with archive.open("rb") as stdin:
            proc = subprocess.run(
                ["bash", str(ROOT / "scripts/images/docker-build.sh"), "-q", "--network", "host",
                 "--build-arg", f"BASE_IMAGE={image.base}", "-f", f"{image.source}/Dockerfile",
                 "-t", tag, "-"],
                stdin=stdin, capture_output=True, text=True, timeout=600, check=False,
            )  # fmt: skip
        assert proc.returncode == 0, f"{image.app}: {proc.stderr}"
        try:
            if image.app == "py-web-server":
                listing = docker("run", "--rm", "--network", "none", tag, "ls", "/app")
                assert listing.split() == ["web_server.py"]
            else:
                listing = docker(
                    "run", "--rm", "--network", "none", tag, "find", "/app", "-type", "f"
                )
                got = sorted(p.removeprefix("/app/") for p in listing.split())
                assert got == sorted(allow_list(APPS / image.source, APPS)), f"{image.app}: {got}"
        finally:
            docker("rmi", tag, check=False)


# --- registry: push, delete locally, pull, run anywhere ----------------------------------


def test_push_delete_pull_and_run_from_the_local_registry(
    images: dict[str, AppImage], run_container: RunContainer, run_id: str
) -> None:
    digests: dict[str, str] = {}
    try:
        for image in images.values():
            remote = f"{REGISTRY}/{image.tag}"
            docker("tag", image.tag, remote)
            docker("push", remote)
            repo_digest = docker("image", "inspect", "-f", "{{index .RepoDigests 0}}", remote)
            digests[f"{run_id}/{image.app}"] = repo_digest.strip().split("@", 1)[1]
        assert {f"{run_id}/{app}" for app in images} <= set(catalog())

        for image in images.values():
            image_id = docker("image", "inspect", "-f", "{{.Id}}", image.tag).strip()
            docker("rmi", f"{REGISTRY}/{image.tag}", image.tag)
            # Deleted, not just untagged: the image itself is gone from the engine.
            assert not image_exists(image_id), f"{image.tag} ({image_id}) is still there"

        for image in images.values():
            remote = f"{REGISTRY}/{image.tag}"
            docker("pull", remote)
            pulled = docker("image", "inspect", "-f", "{{index .RepoDigests 0}}", remote)
            assert pulled.strip().endswith(digests[f"{run_id}/{image.app}"])
            args = ["-h", "my-web-server"] if image.app == "py-web-server" else []
            box = run_container(remote, image.port, *args)
            status, _, body = http_get(box.url)
            assert status == 200
            if image.app == "py-web-server":
                assert body == b"Hostname: my-web-server\n"
            docker("tag", remote, image.tag)  # the other tests keep their local tag
    finally:
        registry_cleanup(run_id, digests)
    if REGISTRY_ROOT.is_dir():  # our registry: its repositories are gone with the data
        assert not [r for r in catalog() if r.startswith(f"{run_id}/")]

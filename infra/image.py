"""App images: built from a source folder with pulumi-docker and pushed, referenced by digest.

Every image is built from the Dockerfile of its source folder under ``apps/``, whose
``Dockerfile.dockerignore`` allow-list admits the folder's own files and the shared code under
``apps/lib/`` it uses; the program stages exactly those files as the image's own build context
(:func:`stage_context`). The tag is a hash of the same files (:func:`build_inputs`), so an unchanged
image is not rebuilt into a new tag, a changed one always is, and an edit to another app's folder
(or to the other color's) never retags this one. Deployments use the pushed digest
(``repo@sha256:…``), never the tag, so what runs is exactly what was built. On the local platform
images stay on the local engine (``skip_push``) and are referenced by their content tag.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import pulumi
import pulumi_docker as docker
import pulumi_gcp as gcp

from infra.config import APPS, COLORS, ROOT, AppSettings, Color, allow_list

#: GKE nodes are x86-64; build for them even on an Arm laptop.
PLATFORM = "linux/amd64"
#: Folders never part of an image's identity (caches, dependencies installed at build time).
_IGNORED = frozenset({".git", "__pycache__", "node_modules", ".venv", ".pytest_cache"})


def build_inputs(source: Path, apps: Path = APPS) -> list[Path]:
    """What ``source``'s image is built from: the source folder itself (Dockerfile, allow-list,
    own files) and every path its allow-list admits from elsewhere under ``apps`` (the shared
    code in ``apps/lib/``)."""
    shared = [apps / p for p in allow_list(source, apps) if not (apps / p).is_relative_to(source)]
    return [source, *shared]


def source_hash(source: Path, apps: Path = APPS) -> str:
    """A stable hash of every file of :func:`build_inputs` (names relative to ``apps``, and
    bytes), 12 hex characters."""
    digest = hashlib.sha256()
    for top in build_inputs(source, apps):
        for path in _files(top):
            digest.update(path.relative_to(apps).as_posix().encode() + b"\0")
            digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()[:12]


#: Where :func:`stage_context` assembles each image's build context (git-ignored).
STAGING = ROOT / ".build" / "images"


def stage_context(source: Path, apps: Path = APPS, staging: Path = STAGING) -> Path:
    """Copies exactly what ``source``'s image is built from (:func:`build_inputs`, at their
    paths under ``apps``) into a folder of its own, and returns that folder.

    pulumi-docker tars and hashes the whole build context, reading only ``<context>/.dockerignore``
    (not the Dockerfile's own allow-list). With ``apps/`` as the context it would send every app
    and rebuild every image on any app's edit (a cache-less rebuild can give an unchanged image a
    new digest and roll its pods). A staged context per image keeps rebuilds per image: editing
    green never touches blue. The folder is rebuilt from scratch each run.
    """
    target = staging / source.relative_to(apps).as_posix().replace("/", "-")
    if target.exists():
        shutil.rmtree(target)
    for top in build_inputs(source, apps):
        for path in _files(top):
            dest = target / path.relative_to(apps)
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, dest)
    return target


def _files(top: Path) -> list[Path]:
    """``top`` if it is a file, else every file below it in a stable order (caches skipped)."""
    if top.is_file():
        return [top]
    found: list[Path] = []
    for root, dirs, files in os.walk(top):
        dirs[:] = sorted(d for d in dirs if d not in _IGNORED)
        found.extend(Path(root, file) for file in sorted(files))
    return found


@dataclass(frozen=True, kw_only=True)
class RegistryLogin:
    """Credentials docker pushes with."""

    server: str
    """Registry host, e.g. ``asia-northeast1-docker.pkg.dev``."""
    username: str
    """``oauth2accesstoken`` for Google registries."""
    password: pulumi.Output[str]
    """A short-lived access token (secret)."""


def gcp_access_token_login(server: str) -> RegistryLogin:
    """Login with the deployer's current OAuth access token (valid about an hour, never stored
    as a long-lived key)."""
    token = gcp.organizations.get_client_config_output().access_token
    return RegistryLogin(
        server=server, username="oauth2accesstoken", password=pulumi.Output.secret(token)
    )


@dataclass(frozen=True, kw_only=True)
class AppImageArgs:
    """Inputs of :class:`AppImage`."""

    source: Path
    """Source folder under ``apps/`` (holds the Dockerfile); the build context is ``apps/``."""
    repository: pulumi.Input[str]
    """Image name without tag, e.g. ``<registry url>/imageview-blue``, or ``kubia`` locally."""
    login: RegistryLogin | None
    """Push credentials, or ``None`` to build locally without pushing."""
    build_args: dict[str, str] | None = None
    """Docker ``--build-arg`` values (e.g. ``BASE_IMAGE``); ``None`` uses the Dockerfile's."""


class AppImage(pulumi.ComponentResource):
    """One built (and, unless local, pushed) image."""

    ref: pulumi.Output[str]
    """What a pod runs: ``repo@sha256:<digest>`` when pushed, ``repo:<content tag>`` locally."""
    tag: pulumi.Output[str]
    """The content tag the image was built as."""

    def __init__(
        self, name: str, args: AppImageArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("gke-bluegreen:infra:AppImage", name, None, opts)
        tag = f"src-{source_hash(args.source)}"
        staged = stage_context(args.source)
        # Relative to the project root (Pulumi's working directory), so state and previews do
        # not depend on where the repository is checked out.
        context = staged.relative_to(ROOT).as_posix()
        dockerfile = f"{context}/{args.source.relative_to(APPS).as_posix()}/Dockerfile"
        image_name = pulumi.Output.concat(args.repository, ":", tag)
        image = docker.Image(
            f"{name}-image",
            image_name=image_name,
            build=docker.DockerBuildArgs(
                context=context,
                dockerfile=dockerfile,
                platform=PLATFORM,
                args=args.build_args,
            ),
            registry=docker.RegistryArgs(
                server=args.login.server,
                username=args.login.username,
                password=args.login.password,
            )
            if args.login
            else None,
            skip_push=args.login is None,
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.tag = pulumi.Output.from_input(tag)
        self.ref = image.repo_digest if args.login else image.image_name
        self.register_outputs({"ref": self.ref, "tag": self.tag})


@dataclass(frozen=True, kw_only=True)
class ImageBuild:
    """One image to build for an app, and the colors that run it."""

    name: str
    """Logical name from the app and the folder (``kubia``, ``imageview-blue``): stable when the
    other color pins an image, so pinning never replaces this build."""
    source: Path
    """Source folder (holds the Dockerfile)."""
    colors: tuple[Color, ...]
    """Colors that run this image."""


def image_builds(app: AppSettings) -> list[ImageBuild]:
    """The builds an app needs: one per distinct source folder. Colors that pin an image
    reference build nothing (that is how the live color keeps the previous release)."""
    by_source: dict[Path, list[Color]] = {}
    for color in COLORS:
        source = app.colors[color].source
        if source is not None:
            by_source.setdefault(source, []).append(color)
    return [
        ImageBuild(
            name=app.name if source.name == app.name else f"{app.name}-{source.name}",
            source=source,
            colors=tuple(colors),
        )
        for source, colors in by_source.items()
    ]

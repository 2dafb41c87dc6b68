"""App images: built from a source folder with pulumi-docker and pushed, referenced by digest; and
the one rule for which image each color runs (:func:`color_images`).

Every image is built from the Dockerfile of its source folder under ``apps/`` with a staged build
context holding exactly what its allow-list admits (:mod:`infra.build_context`). The tag is a hash
of the same files, so an unchanged image is not rebuilt into a new tag, a changed one always is,
and an edit to another app's folder (or to the other color's) never retags this one. Deployments
use the pushed digest (``repo@sha256:…``), never the tag, so what runs is exactly what was built.
On the local platform images stay on the local engine (``skip_push``) and are referenced by their
content tag.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pulumi
import pulumi_docker as docker

from infra import build_context, naming
from infra.paths import APPS, BUILD, ROOT
from infra.settings import COLORS, AppSettings, Color

#: GKE nodes are x86-64; build for them even on an Arm laptop.
PLATFORM = "linux/amd64"


@dataclass(frozen=True, kw_only=True)
class RegistryLogin:
    """Credentials docker pushes with."""

    server: str
    """Registry host, e.g. ``asia-northeast1-docker.pkg.dev``."""
    username: str
    """``oauth2accesstoken`` for Google registries."""
    password: pulumi.Output[str]
    """A short-lived access token (secret)."""


@dataclass(frozen=True, kw_only=True)
class ImageDestination:
    """Where a platform's images go."""

    repository_prefix: pulumi.Input[str]
    """Prefix of every image name (``<registry url>/``), or ``""`` for the local engine."""
    login: RegistryLogin | None
    """Push credentials, or ``None`` to build locally without pushing."""
    provider: docker.Provider | None
    """The Docker provider every image is built (and pushed) with; ``None`` on a stack that
    builds no image (:func:`builds_images`), whose engine then needs no Docker plugin."""


@dataclass(frozen=True, kw_only=True)
class AppImageArgs:
    """Inputs of :class:`AppImage`."""

    source: Path
    """Source folder under ``apps/`` (holds the Dockerfile)."""
    repository: pulumi.Input[str]
    """Image name without tag, e.g. ``<registry url>/imageview``, or ``kubia`` locally."""
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
        tag = build_context.tag(args.source)
        build_context.stage(args.source)
        # Relative to the project root (Pulumi's working directory), so state and previews do
        # not depend on where the repository is checked out, nor on where the staging happened.
        context = (BUILD.relative_to(ROOT) / build_context.context_name(args.source)).as_posix()
        dockerfile = f"{context}/{args.source.relative_to(APPS).as_posix()}/Dockerfile"
        image = docker.Image(
            f"{name}-image",
            image_name=pulumi.Output.concat(args.repository, ":", tag),
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


@dataclass(frozen=True)
class ColorImages:
    """What each color of an app runs, and what the built ones were built from."""

    refs: dict[Color, pulumi.Input[str]]
    """The image each color runs (a stack output, ``apps.<app>.images``)."""
    tags: dict[Color, pulumi.Output[str]]
    """The content tag of the build each color built from source runs (a stack output,
    ``apps.<app>.tags``); a pinned color has none. With the digest beside it, the release tool
    knows which build a deployed digest came from (:mod:`infra.release.deployed`)."""


def color_images(app: AppSettings, destination: ImageDestination) -> ColorImages:
    """The image each color of ``app`` runs: its pinned reference, or the image built from its
    source folder. Colors that share a folder share one build; a pinned color builds nothing
    (that is how the live color keeps the previous release)."""
    images: dict[Color, pulumi.Input[str]] = {}
    tags: dict[Color, pulumi.Output[str]] = {}
    for source, colors in _built_colors(app).items():
        image = _build(naming.image_build(app.name, source), source, app.name, destination)
        images.update(dict.fromkeys(colors, image.ref))
        tags.update(dict.fromkeys(colors, image.tag))
    for color in COLORS:
        pinned = app.colors[color].image
        if pinned:
            images[color] = pinned
    return ColorImages(refs=images, tags=tags)


def _built_colors(app: AppSettings) -> dict[Path, list[Color]]:
    """The colors of ``app`` built from source, by source folder: those with a folder and no
    pinned image."""
    by_source: dict[Path, list[Color]] = {}
    for color in COLORS:
        source = app.colors[color].source
        if source is not None and app.colors[color].image is None:
            by_source.setdefault(source, []).append(color)
    return by_source


def _builds_smoke(apps: Sequence[AppSettings]) -> bool:
    """Whether an app runs smoke Jobs with the client built from ``apps/smoke`` (no pin)."""
    return any(app.smoke.enabled and app.smoke.image is None for app in apps)


def builds_images(apps: Sequence[AppSettings]) -> bool:
    """Whether a stack with these apps builds any image (:func:`color_images`,
    :func:`smoke_images`): a color not pinned to an image, or the smoke client when an app runs
    smoke Jobs without a pinned one (``smoke.image``). One that builds none registers no Docker
    provider, so its engine needs no Docker plugin."""
    return any(_built_colors(app) for app in apps) or _builds_smoke(apps)


def smoke_images(
    apps: Sequence[AppSettings], destination: ImageDestination
) -> dict[str, pulumi.Input[str]]:
    """The smoke client's image each app that runs smoke Jobs runs them with, by app name: its
    pinned ``smoke.image``, else the client built from ``apps/smoke``, once per stack for every
    app without a pin."""
    built = (
        _build(naming.SMOKE_IMAGE, APPS / naming.SMOKE_IMAGE, naming.SMOKE_IMAGE, destination).ref
        if _builds_smoke(apps)
        else None
    )
    images: dict[str, pulumi.Input[str]] = {}
    for app in apps:
        image = app.smoke.image or built
        if app.smoke.enabled and image is not None:
            images[app.name] = image
    return images


def _build(name: str, source: Path, image: str, destination: ImageDestination) -> AppImage:
    """One image of ``destination``, built with its Docker provider."""
    if destination.provider is None:
        # deploy_target registers the provider exactly when builds_images says a build follows.
        raise ValueError(f"image {name}: the platform registered no Docker provider to build it")
    return AppImage(
        name,
        AppImageArgs(
            source=source,
            login=destination.login,
            repository=pulumi.Output.concat(destination.repository_prefix, image),
        ),
        opts=pulumi.ResourceOptions(providers=[destination.provider]),
    )

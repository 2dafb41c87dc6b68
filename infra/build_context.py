"""What an app image is built from: the allow-list beside its Dockerfile, the files it admits, their
content hash (the image tag) and the staged build context pulumi-docker sends.

Every image builds with ``apps/`` as its context and ``<source>/Dockerfile``; its
``Dockerfile.dockerignore`` allow-list admits the folder's own files and the shared code under
``apps/lib/`` it uses. Nothing here follows a link out of ``apps/``: a symbolic link whose target
leaves ``apps/`` (or any link to a folder) is refused, so a checkout can never smuggle a file from
elsewhere on the machine into an image.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path

from infra.paths import APPS, BUILD

#: Folders never part of an image's identity (caches, dependencies installed at build time).
IGNORED = frozenset({".git", "__pycache__", "node_modules", ".venv", ".pytest_cache"})
#: Where :func:`stage` assembles contexts: ``.build/images`` under the project, or the folder this
#: environment variable names (the offline render points it into its own output folder).
STAGING_ENV = "GKE_BLUEGREEN_BUILD_DIR"


class BuildInputError(ValueError):
    """An allow-list or a build input is not acceptable; the message names the file and line."""


def _shown(path: Path, apps: Path) -> str:
    return path.relative_to(apps).as_posix() if path.is_relative_to(apps) else str(path)


def allow_list(source: Path, apps: Path = APPS) -> tuple[str, ...]:
    """The paths (relative to ``apps``, the build context) that ``source``'s
    ``Dockerfile.dockerignore`` admits into its image build.

    The file must be an allow-list: a deny-all ``*`` first, then ``!<path>`` lines that each name
    an existing file or folder literally (no wildcards, no ``..``), so what an image is built from
    can be read off it (the content tag hashes exactly that).
    """
    ignore = source / "Dockerfile.dockerignore"
    shown = _shown(ignore, apps)
    if not ignore.is_file():
        raise BuildInputError(f"{shown} is missing")
    entries = [
        line.strip()
        for line in ignore.read_text().splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]
    if entries[:1] != ["*"]:
        raise BuildInputError(f"{shown} must start with '*' (deny all), then '!<path>' lines")
    paths: list[str] = []
    for entry in entries[1:]:
        path = entry.removeprefix("!")
        wildcard = bool(set(path) & set("*?[]\\"))
        if path in (entry, "") or wildcard or path.startswith("/") or ".." in path.split("/"):
            raise BuildInputError(
                f"{shown}: {entry!r} is not '!<path>' with a literal path under apps/"
            )
        if not (apps / path).exists():
            raise BuildInputError(f"{shown}: {entry!r} names nothing under apps/")
        paths.append(path.rstrip("/"))
    return tuple(paths)


def build_inputs(source: Path, apps: Path = APPS) -> list[Path]:
    """What ``source``'s image is built from: the source folder itself (Dockerfile, allow-list,
    own files) and every path its allow-list admits from elsewhere under ``apps`` (the shared
    code in ``apps/lib/``)."""
    shared = [apps / p for p in allow_list(source, apps) if not (apps / p).is_relative_to(source)]
    return [source, *shared]


def files(source: Path, apps: Path = APPS) -> list[Path]:
    """Every file of :func:`build_inputs`, in a stable order, each checked to stay under ``apps``
    (raises :class:`BuildInputError` naming the first link that leaves it)."""
    root = apps.resolve()
    found: list[Path] = []
    for top in build_inputs(source, apps):
        for path in _walk(top):
            leaves = path.is_dir() or not path.resolve().is_relative_to(root)
            if path.is_symlink() and leaves:
                raise BuildInputError(
                    f"{_shown(path, apps)} is a link to {os.readlink(path)}: a build input "
                    "must be a file under apps/ (links to folders or out of apps/ are refused)"
                )
            found.append(path)
    return found


def _walk(top: Path) -> list[Path]:
    """``top`` if it is a file or a link, else every entry below it (links not followed)."""
    if top.is_symlink() or top.is_file():
        return [top]
    found: list[Path] = []
    for root, dirs, names in os.walk(top):
        links = [d for d in dirs if Path(root, d).is_symlink()]
        dirs[:] = sorted(d for d in dirs if d not in IGNORED and d not in links)
        found.extend(Path(root, name) for name in sorted([*names, *links]))
    return found


def source_hash(source: Path, apps: Path = APPS) -> str:
    """A stable hash of every file of :func:`files` (names relative to ``apps``, and bytes),
    12 hex characters."""
    digest = hashlib.sha256()
    for path in files(source, apps):
        digest.update(path.relative_to(apps).as_posix().encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()[:12]


def tag(source: Path, apps: Path = APPS) -> str:
    """The content tag the image of ``source`` is built as: ``src-<12 hex>``."""
    return f"src-{source_hash(source, apps)}"


def staging_root() -> Path:
    """Where build contexts are staged (see :data:`STAGING_ENV`)."""
    override = os.environ.get(STAGING_ENV)
    return Path(override) if override else BUILD


def context_name(source: Path, apps: Path = APPS) -> str:
    """The staged context's folder name: the source path with ``/`` as ``-``."""
    return source.relative_to(apps).as_posix().replace("/", "-")


def stage(source: Path, apps: Path = APPS, staging: Path | None = None) -> Path:
    """Copies exactly what ``source``'s image is built from (:func:`files`, at their paths under
    ``apps``) into a folder of its own, and returns that folder.

    pulumi-docker tars and hashes the whole build context, reading only ``<context>/.dockerignore``
    (not the Dockerfile's own allow-list). With ``apps/`` as the context it would send every app
    and rebuild every image on any app's edit (a cache-less rebuild can give an unchanged image a
    new digest and roll its pods). A staged context per image keeps rebuilds per image: editing
    green never touches blue. The folder is rebuilt from scratch each run.
    """
    wanted = files(source, apps)
    target = (staging or staging_root()) / context_name(source, apps)
    if target.exists():
        shutil.rmtree(target)
    for path in wanted:
        dest = target / path.relative_to(apps)
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, dest)
    return target

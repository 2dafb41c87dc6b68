"""Where things are in the repository. The bottom layer: no Pulumi, no other infra module."""

from __future__ import annotations

from pathlib import Path

#: The repository root: the Pulumi project directory (Pulumi runs the program from here).
ROOT = Path(__file__).resolve().parent.parent
#: The build context of every app image. An app's ``source`` is a folder below it holding a
#: ``Dockerfile`` and its allow-list ``Dockerfile.dockerignore`` (see infra.build_context).
APPS = ROOT / "apps"
#: The project file and the program it names.
PROJECT_FILE = ROOT / "Pulumi.yaml"
PROGRAM = ROOT / "__main__.py"
#: Where ``pulumi up`` stages each image's build context (git-ignored).
BUILD = ROOT / ".build" / "images"

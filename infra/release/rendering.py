"""The stack as the program sees it, before and after a step: its settings, and the real program
run offline on the stack file (or on a step's edit of it, before it is written)."""

from __future__ import annotations

import json
from collections.abc import Mapping

from infra.cli import scratch_dir
from infra.config import parse
from infra.config import secrets as secrets_section
from infra.offline import program, stackfile
from infra.release.errors import ReleaseError
from infra.settings import PROJECT, AppSettings, Settings


def merged(stack: str, text: str | None = None) -> stackfile.StackConfig:
    """The stack's config as the engine would pass it, from the stack file or from ``text`` in
    its place: Pulumi.yaml and that one stack file are copied to a scratch folder."""
    if text is None:
        return stackfile.merged(stack)
    with scratch_dir("gke-bluegreen-release-") as folder:
        (folder / "stacks").mkdir()
        project = {**stackfile.project(), "stackConfigDir": "stacks"}
        (folder / "Pulumi.yaml").write_text(json.dumps(project))
        (folder / "stacks" / stackfile.stack_file(stack).name).write_text(text)
        return stackfile.merged(stack, path=folder / "Pulumi.yaml")


def settings_of(stack: str, text: str | None = None) -> Settings:
    """The program's settings for the stack file (or for ``text`` in its place)."""
    config = merged(stack, text)
    values = {
        k.split(":", 1)[1]: v for k, v in config.values.items() if k.startswith(f"{PROJECT}:")
    }
    secrets = values.pop(secrets_section.KEY, None)
    return parse(values, stack, secrets)


def render(
    stack: str, text: str | None = None, images: Mapping[str, str] | None = None
) -> program.Render:
    """The real program offline, on the stack file (or ``text`` in its place); ``images``: the
    digests deployed builds have (:class:`infra.release.deployed.DeployedImages`)."""
    return program.run(merged(stack, text), deployed_images=images)


def app_of(settings: Settings, name: str) -> AppSettings:
    """The app ``--app`` names; an unknown one is an error naming those the stack has."""
    if name not in settings.apps:
        known = ", ".join(settings.apps) or "(none)"
        raise ReleaseError(
            f"--app {name!r}: stack {settings.stack} has no such app; its apps: {known}"
        )
    return settings.apps[name]

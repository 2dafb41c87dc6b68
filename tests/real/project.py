"""The project as the real tier runs it: the committed files copied into a scratch folder (``pulumi
stack init`` writes into the stack file it finds: docs/real-tier.md finding 2), the local stack
initialised there and configured the way a user configures it (``pulumi config set --path``),
with the real CLI and our Python language host against the loopback cluster.

The local stack as committed builds its images, which needs the Docker provider the tier cannot
build (docs/real-tier.md). :func:`pinned` gives the settings under which it builds nothing: every
color and every smoke client on an existing image (``<name>:src-<12 hex>``, which the local
platform allows; kwok never pulls an image)."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterable
from pathlib import Path

import yaml

from infra.paths import ROOT
from infra.settings import COLORS
from tests.real.cli import Cli, engine_cli

#: What the real CLI needs to run the program: its plugins and our language host.
NEEDED = (
    "pulumi",
    "pulumi-language-python",
    "pulumi-resource-pulumi-python",
    "pulumi-resource-kubernetes",
)
INSTALLED_BY = "scripts/install.d/50-go-tools.sh, 55-python-host.sh"
#: The local stack's apps (stacks/Pulumi.local.yaml).
APPS = ("py-web-server", "kubia", "node-app")
#: The content tag every pinned color runs until a release changes it.
FIRST = "src-" + "0" * 12
#: The smoke client every app's Jobs run (``smoke.image``).
SMOKE = "smoke:src-" + "5" * 12


def program_cli(folder: Path, kubeconfig: Path) -> Cli:
    """The real CLI with the program's plugins, against ``kubeconfig``."""
    return engine_cli(folder, kubeconfig, NEEDED, INSTALLED_BY)


def namespaced_kubeconfig(kubeconfig: Path, namespace: str, path: Path) -> Path:
    """A copy of ``kubeconfig`` whose context deploys into ``namespace`` (pulumi-kubernetes puts an
    object without a namespace into its context's, as kubectl does), written to ``path``."""
    config = yaml.safe_load(kubeconfig.read_text())
    for context in config["contexts"]:
        context["context"]["namespace"] = namespace
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    path.chmod(0o600)
    return path


def project_copy(folder: Path) -> Path:
    """The committed project (``git ls-files``) copied into ``folder``."""
    files = subprocess.run(
        ["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True
    ).stdout.split(b"\0")
    for name in filter(None, files):
        rel = name.decode()
        if (ROOT / rel).is_file():
            (folder / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / rel, folder / rel)
    return folder


def local_stack(engine: Cli, folder: Path) -> Path:
    """A project copy in ``folder`` with the ``local`` stack initialised."""
    project = project_copy(folder)
    init = engine.run(project, "stack", "init", "local")
    assert init.returncode == 0, init.stdout
    return project


def configure(engine: Cli, project: Path, settings: Iterable[str]) -> None:
    """``pulumi config set --path KEY VALUE`` of each ``KEY=VALUE`` (``true``/``false`` and whole
    numbers typed as the CLI types them with ``--type``)."""
    for setting in settings:
        key, value = setting.split("=", 1)
        typed: list[str] = []
        if value in ("true", "false"):
            typed = ["--type", "bool"]
        elif value.isdigit():
            typed = ["--type", "int"]
        done = engine.run(
            project, "config", "set", "--path", key, value, *typed, "--stack", "local"
        )
        assert done.returncode == 0, done.stdout


def pinned(*, smoke: bool) -> list[str]:
    """Settings under which the local stack builds nothing: every color on ``<app>:src-0…``, and
    smoke Jobs off, or on with the client pinned to :data:`SMOKE`."""
    pins = [f"apps.{app}.colors.{color}.image={app}:{FIRST}" for app in APPS for color in COLORS]
    if smoke:
        return pins + [f"apps.{app}.smoke.image={SMOKE}" for app in APPS]
    return pins + [f"apps.{app}.smoke.enabled=false" for app in APPS]

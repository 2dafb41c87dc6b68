"""The CLI contract, for real: the Pulumi CLI built from tools/ reads Pulumi.yaml and each committed
stack's config and accepts them, and it refuses the bad project files and stack configs that the
offline port of its rules (infra/offline/cli_rules.py, used by the render and the doctor) refuses,
with the same message.

The CLI checks the project and the stack's config before it starts the language host, so a run
that gets as far as starting the program (in our Python host, tools/python-host, or looking for
one on a machine without it) has passed every one of those checks. Each case runs in a scratch
copy: ``pulumi stack init`` with a passphrase writes an ``encryptionsalt`` into the stack file it
finds.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from infra.offline import cli_rules
from tests.prerequisites import unavailable
from tests.real.cli import Cli, pulumi_binary, started_the_program
from tests.real.cluster import ROOT, Unavailable

pytestmark = pytest.mark.real

STACKS = sorted(p.name.split(".")[1] for p in (ROOT / "stacks").glob("Pulumi.*.yaml"))


@pytest.fixture(autouse=True)
def _cli_built() -> None:
    try:
        pulumi_binary()
    except Unavailable as exc:
        unavailable(str(exc))


def init_and_preview(cli: Cli, project_dir: Path, stack: str) -> str:
    """``stack init`` then ``preview``; everything the CLI printed."""
    init = cli.run(project_dir, "stack", "init", stack)
    if init.returncode != 0:
        return init.stdout
    return init.stdout + cli.run(project_dir, "preview", "--stack", stack).stdout


@pytest.mark.parametrize("stack", STACKS)
def test_the_cli_accepts_the_project_and_every_stack(tmp_path: Path, stack: str) -> None:
    project = tmp_path / "project"
    (project / "stacks").mkdir(parents=True)
    shutil.copy(ROOT / "Pulumi.yaml", project)
    shutil.copy(ROOT / "stacks" / f"Pulumi.{stack}.yaml", project / "stacks")
    out = init_and_preview(Cli(tmp_path / "cli"), project, stack)
    assert "validating stack config" not in out, out
    assert started_the_program(out), out


def write_project(folder: Path, project: dict[str, Any], values: dict[str, Any]) -> Path:
    folder.mkdir(parents=True)
    (folder / "Pulumi.yaml").write_text(yaml.safe_dump({"runtime": "python", **project}))
    (folder / "Pulumi.s.yaml").write_text(yaml.safe_dump({"config": values}))
    return folder


# The cases of tests/infra/offline/test_cli_rules.py, through the real CLI.
MERGE_CASES = [
    ({"region": {"type": "string"}}, {}),
    ({"platform": {"type": "string", "default": "gke"}}, {"gke-bluegreen:platform": ["gke"]}),
    ({"apps": {"type": "object"}}, {"gke-bluegreen:apps": "kubia"}),
    ({"replicas": {"type": "integer"}}, {"gke-bluegreen:replicas": "three"}),
    ({"zones": {"type": "array", "items": {"type": "string"}}}, {"gke-bluegreen:zones": ["a", 1]}),
    ({"token": {"type": "string", "secret": True}}, {"gke-bluegreen:token": "plaintext"}),
    ({"token": {"type": "string", "secret": True, "default": "x"}}, {}),
]


@pytest.mark.parametrize(("config", "values"), MERGE_CASES)
def test_the_cli_refuses_a_stack_config_as_the_port_does(
    tmp_path: Path, config: dict[str, Any], values: dict[str, Any]
) -> None:
    project = {"name": "gke-bluegreen", "config": config}
    with pytest.raises(cli_rules.CliRuleError) as ported:
        cli_rules.check_merge("s", project, values, set())
    folder = write_project(tmp_path / "project", project, values)
    out = init_and_preview(Cli(tmp_path / "cli"), folder, "s")
    assert f"error: validating stack config: {ported.value}" in out, out


def test_the_cli_accepts_a_stack_config_the_port_accepts(tmp_path: Path) -> None:
    project = {
        "name": "gke-bluegreen",
        "config": {
            "replicas": {"type": "integer", "default": 1},
            "spot": {"type": "boolean"},
            "aws:region": {"value": "us-west-2"},
            "other": {"description": "untyped: any value"},
        },
    }
    values = {"gke-bluegreen:spot": "true", "gke-bluegreen:other": [1, {"a": 2}]}
    cli_rules.check_merge("s", project, values, set())
    folder = write_project(tmp_path / "project", project, values)
    out = init_and_preview(Cli(tmp_path / "cli"), folder, "s")
    assert started_the_program(out), out


PROJECT_CASES = [
    pytest.param({"runtime": "python"}, id="no-name"),
    pytest.param({"name": ""}, id="empty-name"),
    pytest.param({"name": "gke bluegreen"}, id="bad-name"),
    pytest.param({"name": "p", "stackConfigDir": ["stacks"]}, id="stackConfigDir-type"),
    pytest.param(
        {"name": "p", "config": {"a": {"default": 1, "value": 2}}}, id="default-and-value"
    ),
    pytest.param({"name": "p", "config": {"a": {"type": "array"}}}, id="array-without-items"),
    pytest.param({"name": "p", "config": {"a": {"type": "integer", "default": "x"}}}, id="default"),
    pytest.param({"name": "p", "config": {"gcp:project": {"type": "string"}}}, id="foreign-type"),
    pytest.param({"name": "p", "config": {"gcp:project": {"description": "x"}}}, id="no-value"),
    pytest.param({"name": "p", "config": {"a": {"type": "map"}}}, id="unknown-type"),
    pytest.param({"name": "p", "config": {"a": {"typ": "string"}}}, id="unknown-attribute"),
]


@pytest.mark.parametrize("project", PROJECT_CASES)
def test_the_cli_refuses_a_project_file_as_the_port_does(
    tmp_path: Path, project: dict[str, Any]
) -> None:
    """Compared after the key path, which the two write differently (the port
    ``config.a.type: ...``, the CLI's schema validator ``#/config/a/type: ...``)."""
    ported = cli_rules.project_problems(project)
    assert ported, "the port accepts this project file"
    folder = write_project(tmp_path / "project", project, {})
    out = Cli(tmp_path / "cli").run(folder, "stack", "init", "s").stdout
    assert "Created stack" not in out, out
    assert ported[0].split(": ", 1)[-1] in out, f"the port says {ported[0]!r}; the CLI:\n{out}"

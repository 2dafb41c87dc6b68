"""The e2e driver's world in a test: a copy of the project, the Pulumi and kubectl stand-ins over
a model cluster, and the live URL on 127.0.0.1 (tests/infra/e2e/standins.py)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from infra.paths import ROOT
from tests.infra.e2e import standins

STACK, APP, SERVICE = "local", "kubia", "kubia-http"


@pytest.fixture(scope="session")
def local_outputs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The outputs of the local stack as its offline render makes them (what `pulumi up`
    would output, image tags and all)."""
    out = tmp_path_factory.mktemp("render")
    subprocess.run(
        [sys.executable, "-m", "infra.offline.render", "--stack", STACK, "--out", str(out)],
        cwd=ROOT,
        check=True,
        capture_output=True,
        timeout=300,
    )
    data: dict[str, Any] = json.loads((out / "outputs.json").read_text())
    return data


@dataclass
class World:
    project: Path
    state: Path
    url: str
    env: dict[str, str]

    def stack_file(self) -> str:
        return (self.project / "stacks" / f"Pulumi.{STACK}.yaml").read_text()

    def model(self) -> dict[str, Any]:
        return standins.load_state(self.state)

    def edit(self, **changes: Any) -> None:
        model = self.model()
        model.update(changes)
        standins.save_state(self.state, model)

    def run(self, *argv: str, timeout: float = 300, **env: str) -> subprocess.CompletedProcess[str]:
        """``python -m infra.e2e ARGV`` from the project copy."""
        return self.tool("infra.e2e", *argv, timeout=timeout, **env)

    def tool(
        self, module: str, *argv: str, timeout: float = 300, **env: str
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", module, *argv],
            cwd=self.project,
            env={**self.env, **env},
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )


@pytest.fixture
def world(tmp_path: Path, local_outputs: dict[str, Any]) -> Iterator[World]:
    project = standins.copy_project(ROOT, tmp_path)
    state = tmp_path / "model.json"
    env = {k: v for k, v in os.environ.items() if not k.startswith("STANDIN_")}
    env.update(standins.install_clis(tmp_path / "bin"))
    env[standins.STATE] = str(state)
    env["STANDIN_SMOKE_FAILS_WITH"] = "NODE_OPTIONS"
    with standins.live_url(state, SERVICE) as url:
        standins.save_state(state, standins.initial_state(project, STACK, local_outputs, url, APP))
        yield World(project, state, url, env)

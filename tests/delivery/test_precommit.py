"""The pre-commit hooks: the required ones are configured and their tools exist."""

from __future__ import annotations

import shlex
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.delivery.renders import ROOT
from tests.prerequisites import unavailable, under_ci

CONFIG = ROOT / ".pre-commit-config.yaml"
TOOLS = ROOT / ".venv-tools" / "bin"
REQUIRED = {
    "ruff",
    "ruff-format",
    "mypy",
    "lint-imports",
    "detect-private-key",
    "check-added-large-files",
}


def hooks() -> dict[str, dict[str, object]]:
    doc = yaml.safe_load(CONFIG.read_text())
    return {h["id"]: h for repo in doc["repos"] for h in repo["hooks"]}


def tool(name: str) -> Path:
    path = TOOLS / name
    if not path.exists():
        unavailable(f".venv-tools/bin/{name} is missing: run scripts/install.sh")
    return path


def test_required_hooks_are_configured_and_their_tools_exist() -> None:
    found = hooks()
    assert set(found) >= REQUIRED, REQUIRED - set(found)
    proc = subprocess.run(
        [str(tool("pre-commit")), "validate-config", str(CONFIG)],
        check=False,
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    for hook_id, hook in found.items():
        executable = ROOT / shlex.split(str(hook["entry"]))[0]
        if executable.parts[-3] == ".venv-tools":
            tool(executable.name)
        elif not executable.exists() and under_ci():
            pytest.fail(f"hook {hook_id}: {executable} does not exist")

"""The pre-commit hooks: the required ones are configured, their tools exist, and the two
guards (private keys, large files) really stop a commit."""

from __future__ import annotations

import os
import shlex
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.delivery.renders import ROOT
from tests.prerequisites import unavailable, under_ci

CONFIG = ROOT / ".pre-commit-config.yaml"
TOOLS = ROOT / ".venv-tools" / "bin"
REQUIRED = {"ruff", "ruff-format", "mypy", "detect-private-key", "check-added-large-files"}


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


def test_detect_private_key_stops_a_key(tmp_path: Path) -> None:
    clean = tmp_path / "notes.txt"
    clean.write_text("nothing secret here\n")
    key = tmp_path / "id_rsa"
    key.write_text("-----BEGIN OPENSSH " + "PRIVATE KEY-----\nb3BlbnNzaC1rZXk=\n")
    run = [str(tool("detect-private-key"))]
    assert subprocess.run([*run, str(clean)], check=False, capture_output=True).returncode == 0
    proc = subprocess.run([*run, str(key)], check=False, capture_output=True, text=True)
    assert proc.returncode == 1 and "Private key found" in proc.stdout


def test_check_added_large_files_stops_a_large_file(tmp_path: Path) -> None:
    entry = shlex.split(str(hooks()["check-added-large-files"]["entry"]))
    git = ["git", "-c", "init.defaultBranch=main", "-c", "user.name=t", "-c", "user.email=t@t"]
    subprocess.run([*git, "init", "-q", str(tmp_path)], check=True)
    (tmp_path / "small.txt").write_text("ok\n")
    (tmp_path / "big.bin").write_bytes(os.urandom(600 * 1024))
    subprocess.run([*git, "add", "small.txt", "big.bin"], check=True, cwd=tmp_path)
    run = [str(tool("check-added-large-files")), *entry[1:]]
    ok = subprocess.run([*run, "small.txt"], check=False, cwd=tmp_path, capture_output=True)
    assert ok.returncode == 0
    big = subprocess.run(
        [*run, "big.bin"], check=False, cwd=tmp_path, capture_output=True, text=True
    )
    assert big.returncode == 1 and "big.bin" in big.stdout

"""Reading the GitHub workflows: one helper for the delivery tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

from tests.delivery.renders import ROOT

WORKFLOWS = ROOT / ".github" / "workflows"


def load(path: Path) -> dict[str, Any]:
    """A workflow file as data (YAML 1.1 reads the `on:` key as the boolean true)."""
    doc = yaml.safe_load(path.read_text())
    if True in doc:
        doc["on"] = doc.pop(True)
    return dict(doc)


def workflow(name: str) -> dict[str, Any]:
    """The workflow ``.github/workflows/<name>`` as data."""
    return load(WORKFLOWS / name)


def workflow_files(root: Path = WORKFLOWS) -> list[Path]:
    return sorted(root.glob("*.yml"))


def steps(doc: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """(job id, step) for every step of every job of a workflow."""
    for job_id, job in doc.get("jobs", {}).items():
        for step in job.get("steps", []):
            yield job_id, step


def action(step: dict[str, Any]) -> str | None:
    """``owner/repo[/path]`` of a step's ``uses:`` (None for run steps and local actions)."""
    uses = step.get("uses")
    if not uses or uses.startswith("./"):
        return None
    return str(uses).split("@", 1)[0]


def strings(node: object) -> Iterator[str]:
    """Every string in parsed YAML, mapping keys included (``run:`` scripts, ``env:`` names and
    values, ``with:`` inputs, ``if:`` conditions...)."""
    if isinstance(node, str):
        yield node
    elif isinstance(node, dict):
        for key, value in node.items():
            yield from strings(key)
            yield from strings(value)
    elif isinstance(node, list):
        for item in node:
            yield from strings(item)


def run_scripts(root: Path = WORKFLOWS) -> Iterator[tuple[str, str]]:
    """(where, script) for every ``run:`` step of every workflow."""
    for path in workflow_files(root):
        for job_id, step in steps(load(path)):
            if "run" in step:
                yield f"{path.name} {job_id}: {step.get('name', step['run'][:40])}", step["run"]

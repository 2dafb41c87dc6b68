"""The release tests' project: copies of the stack files, used in place of the repository's; and
the program's renders shared between them (the tool only reads what it renders)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.infra.release.harness import make_project


@pytest.fixture(autouse=True)
def _shared_renders(shared_renders: object) -> None:
    """A release sequence renders the stack file before and after every step, and many tests
    start from the same files: each config is rendered once for the session."""


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    return make_project(tmp_path, monkeypatch)

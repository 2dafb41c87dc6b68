"""The release tests' project: copies of the stack files, used in place of the repository's."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.infra.release.harness import make_project


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    return make_project(tmp_path, monkeypatch)

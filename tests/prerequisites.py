"""The one rule for a missing test prerequisite (a tool, a venv, an engine): on a developer's
machine the test skips and says why; under CI (CI=true) it fails, so CI can never pass by
skipping."""

from __future__ import annotations

import os
from typing import NoReturn

import pytest


def under_ci() -> bool:
    """True when running in CI, where nothing may be skipped for a missing prerequisite."""
    return os.environ.get("CI") == "true"


def unavailable(reason: str) -> NoReturn:
    """Skip with ``reason`` on a developer machine; fail with it under CI."""
    if under_ci():
        pytest.fail(f"cannot run under CI=true: {reason}")
    pytest.skip(reason)

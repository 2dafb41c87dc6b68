"""infra/gcs_acl/settings.py: every numeric setting is range-checked; the defaults are pinned."""

from __future__ import annotations

import math
from typing import Any

import pytest

from infra.gcs_acl import settings as settings_mod
from infra.gcs_acl.errors import InvalidSpecError


def test_public_defaults_pinned() -> None:
    s = settings_mod.RunSettings()
    assert (s.workers, s.page_size, s.retry_deadline_s) == (16, 1000, 60.0)
    assert (s.connect_timeout_s, s.read_timeout_s, s.progress_interval_s) == (2.5, 60.0, 2.0)


NUMERIC_SETTINGS = [
    "workers",
    "page_size",
    "retry_deadline_s",
    "retry_initial_s",
    "retry_max_s",
    "connect_timeout_s",
    "read_timeout_s",
    "progress_interval_s",
]


@pytest.mark.parametrize("name", NUMERIC_SETTINGS)
@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf, -1, 10**9, True])
def test_every_numeric_setting_needs_a_finite_value_in_range(name: str, value: float) -> None:
    # Values the check must refuse (a bool among them), so not typed as RunSettings takes them.
    changed: dict[str, Any] = {name: value}
    settings = settings_mod.RunSettings(**changed)
    with pytest.raises(InvalidSpecError) as err:
        settings_mod.check_settings(settings)
    assert err.value.field == name
    assert f"{name} must be" in str(err.value) and "\n" not in str(err.value)


def test_whole_number_settings_refuse_fractions_and_defaults_pass() -> None:
    with pytest.raises(InvalidSpecError, match="workers must be a whole number"):
        # A fraction on purpose: the check must refuse what the annotation already rules out.
        settings_mod.check_settings(settings_mod.RunSettings(workers=2.5))  # type: ignore[arg-type]
    settings_mod.check_settings(settings_mod.RunSettings())
    assert sorted(settings_mod.LIMITS) == sorted(NUMERIC_SETTINGS)  # every one is range-checked
    with pytest.raises(InvalidSpecError, match="must not exceed retry_max_s"):
        settings_mod.check_settings(settings_mod.RunSettings(retry_initial_s=10, retry_max_s=1))


@pytest.mark.parametrize(
    ("name", "words"),
    [
        ("workers", "a whole number from 1 to 256"),
        ("retry_deadline_s", "a finite number of seconds > 0 and <= 3600"),
        ("progress_interval_s", "a finite number of seconds from 0 to 3600"),
    ],
)
def test_each_limit_says_what_it_allows(name: str, words: str) -> None:
    assert settings_mod.LIMITS[name].describe() == words


def test_a_bad_project_is_refused_with_the_settings() -> None:
    with pytest.raises(InvalidSpecError) as err:
        settings_mod.check_settings(settings_mod.RunSettings(project="My-Proj"))
    assert err.value.field == "project"

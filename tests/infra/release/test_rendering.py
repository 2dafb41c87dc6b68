"""infra/release/rendering.py: the stack file, or a step's edit of it before it is written, as the
program sees it."""

from __future__ import annotations

from pathlib import Path

import pytest

from infra.release import rendering
from infra.release.document import StackFile
from infra.release.errors import ReleaseError


def test_an_edit_is_seen_before_it_is_written(project: Path) -> None:
    file = StackFile("imageview")
    file.set("apps.imageview.colors.green.replicas=7")
    before = rendering.settings_of("imageview").apps["imageview"]
    after = rendering.settings_of("imageview", file.text()).apps["imageview"]
    assert (before.colors["green"].replicas, after.colors["green"].replicas) == (3, 7)
    assert rendering.merged("imageview", file.text()).stack == "imageview"
    assert list(project.glob("stacks/.*")) == [], "the edit is rendered elsewhere"


def test_an_unknown_app_names_the_apps_there_are(project: Path) -> None:
    settings = rendering.settings_of("imageview")
    assert rendering.app_of(settings, "imageview").name == "imageview"
    with pytest.raises(ReleaseError) as caught:
        rendering.app_of(settings, "imageview\n")
    assert str(caught.value) == (
        "--app 'imageview\\n': stack imageview has no such app; its apps: imageview"
    )

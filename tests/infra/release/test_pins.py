"""infra/release/pins.py: a pinned color runs what it ran (image, env, ConfigMaps, its own copy of
the encrypted secret values), as the program reads it back."""

from __future__ import annotations

from pathlib import Path

import pytest

from infra import cutover
from infra.release import pins
from infra.release.document import StackFile
from infra.release.errors import ReleaseError
from infra.release.rendering import settings_of
from tests.infra.release.harness import DIGEST, SECURE, app_node


def test_a_pinned_color_runs_what_it_ran(project: Path) -> None:
    app = settings_of("imageview").apps["imageview"]
    file = StackFile("imageview")
    entry = pins.pin_color(file, app, "blue", DIGEST)
    file.write()
    again = settings_of("imageview").apps["imageview"]
    assert again.colors["blue"].image == DIGEST
    assert cutover.snapshot(again, "blue") == cutover.snapshot(app, "blue")
    assert entry["color"] == "blue" and entry["image"] == DIGEST
    assert entry["config"] == cutover.snapshot_digest(app, "blue")
    secrets = StackFile("imageview").secrets("imageview")
    assert secrets is not None and secrets["colors"]["blue"] == SECURE


def test_a_color_keeps_its_own_secret_copy_until_forgotten(project: Path) -> None:
    app = settings_of("imageview").apps["imageview"]
    file = StackFile("imageview")
    first = pins.pin_secrets(file, app, "green")
    secrets = file.secrets("imageview")
    assert secrets is not None
    secrets["id"] = {"secure": "v1:rotated"}
    assert pins.pin_secrets(file, app, "green") == first, "an own copy is kept"
    pins.forget_own_secrets(file, "imageview", "green")
    assert pins.pin_secrets(file, app, "green") != first, "a new copy of the rotated value"


def test_records_are_set_and_removed(project: Path) -> None:
    file = StackFile("imageview")
    node = file.app("imageview")
    pins.record(node, "live", {"color": "blue", "image": DIGEST, "config": "c" * 64})
    pins.record(node, "previous", None)
    file.write()
    assert app_node(project, "imageview", "imageview")["release"] == {
        "live": {"color": "blue", "image": DIGEST, "config": "c" * 64}
    }
    pins.record(file.app("imageview"), "live", None)
    assert file.app("imageview")["release"] == {}


def test_a_missing_secret_value_says_how_to_set_it(project: Path) -> None:
    app = settings_of("imageview").apps["imageview"]
    file = StackFile("imageview")
    secrets = file.secrets("imageview")
    assert secrets is not None
    del secrets["key"]
    with pytest.raises(ReleaseError) as caught:
        pins.pin_secrets(file, app, "blue")
    assert str(caught.value) == (
        "secrets.imageview.key is not set: pulumi config set --secret --path "
        "'secrets.imageview.key' VALUE, then run the step again"
    )

"""infra/release/deployed.py: what is deployed, read from an outputs file or the Pulumi CLI
($PULUMI), failing closed: a CLI that fails, hangs or is missing is one error line."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from infra.release import deployed
from infra.release.errors import ReleaseError
from tests.infra.release.harness import DIGEST
from tests.infra.release.harness import deployed as outputs_of


def _cli(folder: Path, script: str) -> Path:
    fake = folder / "pulumi"
    fake.write_text(f"#!/bin/sh\n{script}\n")
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    return fake


def test_outputs_come_from_the_cli_that_pulumi_names(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PULUMI", str(_cli(tmp_path, 'echo "$@" >&2; echo \'{"apps": {}}\'')))
    assert deployed.read_outputs("imageview", None) == {"apps": {}}


def test_outputs_fail_closed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(
        "PULUMI", str(_cli(tmp_path, "echo 'error: getting outputs: 403 Forbidden' >&2; exit 1"))
    )
    with pytest.raises(
        ReleaseError, match="pulumi stack output failed: error: getting outputs: 403"
    ):
        deployed.read_outputs("imageview", None)
    monkeypatch.setenv("PULUMI", str(_cli(tmp_path, "echo 'not json'")))
    with pytest.raises(ReleaseError, match="did not print JSON; pass --outputs FILE instead"):
        deployed.read_outputs("imageview", None)
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    monkeypatch.setenv("PULUMI", "pulumi")
    with pytest.raises(ReleaseError, match=r"the Pulumi CLI \(pulumi\) is not on PATH"):
        deployed.read_outputs("imageview", None)


@pytest.mark.parametrize(
    ("text", "words"),
    [("{not json", "not a JSON outputs file"), ("[1, 2]", "not a JSON object")],
)
def test_an_outputs_file_that_is_not_outputs_is_one_line(
    tmp_path: Path, text: str, words: str
) -> None:
    file = tmp_path / "outputs.json"
    file.write_text(text)
    with pytest.raises(ReleaseError, match=words) as caught:
        deployed.read_outputs("imageview", file)
    assert "\n" not in str(caught.value)


def test_a_pulumi_cli_that_hangs_is_stopped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PULUMI", str(_cli(tmp_path, "exec sleep 30")))
    monkeypatch.setattr(deployed, "PULUMI_TIMEOUT_S", 0.1)
    with pytest.raises(ReleaseError) as caught:
        deployed.read_outputs("imageview", None)
    assert str(caught.value).startswith("pulumi stack output did not finish within 0.1 s")


def test_pulumi_up_that_fails_says_what_was_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PULUMI", str(_cli(tmp_path, "exit 3")))
    with pytest.raises(ReleaseError) as caught:
        deployed.pulumi_up("imageview", "start")
    assert "pulumi up failed (exit 3" in str(caught.value)
    assert "run `pulumi up --stack imageview`" in str(caught.value)


def test_the_live_image_is_the_one_the_outputs_name() -> None:
    assert deployed.live_image("s", outputs_of("iv"), "iv", "blue") == DIGEST
    with pytest.raises(ReleaseError, match="iv is not deployed on stack s yet"):
        deployed.live_image("s", {}, "iv", "blue")
    with pytest.raises(ReleaseError, match="the outputs name no image for iv's green color"):
        deployed.live_image("s", outputs_of("iv"), "iv", "green")
    assert deployed.deployed_app({"apps": []}, "iv") is None

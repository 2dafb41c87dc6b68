"""infra/doctor/tools.py: a tool that hangs is killed after the timeout and said not to answer,
never taken for one that is missing or not logged in."""

from __future__ import annotations

from pathlib import Path

import pytest

from infra.doctor import tools
from tests.infra.doctor.harness import by_what, fake_tools, machine_for, script


@pytest.mark.parametrize(
    ("pulumi", "docker", "what", "words"),
    [
        (
            "version) exec sleep 30;;",
            "",
            "Pulumi CLI",
            "`{pulumi} version` did not answer within 1 s",
        ),
        (
            "version) echo v3.259.0;; whoami) exec sleep 30;;",
            "",
            "Pulumi backend",
            "`pulumi whoami` did not answer within 1 s: the backend it is logged in to does not "
            "answer",
        ),
        (
            "version) echo v3.259.0;; whoami) echo 'Backend URL: file://~';;",
            "exec sleep 30",
            "Docker with BuildKit",
            "`docker version` did not answer within 1 s",
        ),
    ],
)
def test_a_command_that_hangs_did_not_answer(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, pulumi: str, docker: str, what: str, words: str
) -> None:
    monkeypatch.setattr(tools, "TIMEOUT_S", 1)
    stand_in = script(tmp_path / "stand-in/pulumi", f'case "$1" in {pulumi} esac')
    bin_dir = fake_tools(tmp_path)
    if docker:
        script(bin_dir / "docker", docker)
    m = machine_for(bin_dir, {"PULUMI": str(stand_in)}, tmp_path)
    m.backend(m.pulumi_cli())
    m.docker()
    found = by_what(m.findings)
    assert found[what].status == "MISSING"
    assert found[what].detail.startswith(words.format(pulumi=stand_in)), found[what].detail
    assert "not logged in" not in found[what].detail

"""infra/doctor/machine.py: the Pulumi CLI (the one ``$PULUMI`` names, a release new enough), its
backend, the Docker engine and the GKE tools, one line each with what to run when missing."""

from __future__ import annotations

from pathlib import Path

import pytest

from infra.doctor.findings import Finding
from infra.doctor.machine import INSTALL_PULUMI
from tests.infra.doctor.harness import by_what, fake_tools, machine_for, script, stand_in


@pytest.mark.parametrize(
    ("versions", "what", "words"),
    [
        ({"pulumi": "3.150.0"}, "Pulumi CLI", "older than 3.187.0"),
        ({"docker": "17.12.1"}, "Docker with BuildKit", "has no BuildKit"),
        ({"gke-gcloud-auth-plugin": "absent"}, "gke-gcloud-auth-plugin", "not on PATH"),
    ],
)
def test_old_or_absent_tools(
    tmp_path: Path, versions: dict[str, str], what: str, words: str
) -> None:
    m = machine_for(fake_tools(tmp_path, **versions), {}, tmp_path)
    m.backend(m.pulumi_cli())
    m.docker()
    m.gke_tools("gke-bluegreen-dev")
    found = by_what(m.findings)
    assert found[what].status == "MISSING" and words in found[what].detail


def test_a_stopped_docker_engine(tmp_path: Path) -> None:
    bin_dir = fake_tools(tmp_path)
    (bin_dir / "docker").write_text(
        "#!/bin/sh\necho 'Cannot connect to the Docker daemon' >&2\nexit 1\n"
    )
    m = machine_for(bin_dir, {}, tmp_path)
    m.docker()
    found = by_what(m.findings)
    assert found["Docker with BuildKit"].status == "MISSING"
    assert "start it" in found["Docker with BuildKit"].detail


def _pulumi_findings(tmp_path: Path, env: dict[str, str]) -> dict[str, Finding]:
    """Only the Pulumi CLI and backend checks, on a PATH whose pulumi is 3.259.0."""
    m = machine_for(fake_tools(tmp_path), env, tmp_path)
    m.backend(m.pulumi_cli())
    return by_what(m.findings)


def test_the_doctor_runs_the_pulumi_cli_that_PULUMI_names(tmp_path: Path) -> None:
    pulumi = stand_in(tmp_path, "3.301.2")
    found = _pulumi_findings(tmp_path, {"PULUMI": str(pulumi)})
    assert found["Pulumi CLI"].status == "ok"
    assert "3.301.2" in found["Pulumi CLI"].detail, "not the 3.259.0 on PATH"
    assert found["Pulumi backend"].status == "ok"
    assert "file://stand-in" in found["Pulumi backend"].detail, "whoami asked the stand-in too"


def test_an_old_pulumi_named_by_PULUMI_is_refused(tmp_path: Path) -> None:
    pulumi = stand_in(tmp_path, "3.100.0")
    found = _pulumi_findings(tmp_path, {"PULUMI": str(pulumi)})
    assert found["Pulumi CLI"].status == "MISSING"
    assert str(pulumi) in found["Pulumi CLI"].detail and "3.100.0" in found["Pulumi CLI"].detail
    assert found["Pulumi backend"].status == "not checked"


def test_PULUMI_that_names_nothing_is_missing_and_says_so(tmp_path: Path) -> None:
    ghost = str(tmp_path / "no-such-pulumi")
    found = _pulumi_findings(tmp_path, {"PULUMI": ghost})
    assert found["Pulumi CLI"].status == "MISSING"
    assert f"PULUMI={ghost}" in found["Pulumi CLI"].detail, "not pulumi on PATH, silently"


# ------------------------------------------------------------------ odd answers from the tools


def test_a_pre_release_pulumi_is_not_new_enough(tmp_path: Path) -> None:
    """3.273.0-alpha is above 3.187.0 by its numbers, but it is no release."""
    pulumi = stand_in(tmp_path, "3.273.0-alpha.1748383937+g1a2b3c4")
    found = _pulumi_findings(tmp_path, {"PULUMI": str(pulumi)})
    assert found["Pulumi CLI"].status == "MISSING"
    assert found["Pulumi CLI"].detail == (
        f"{pulumi} is 3.273.0-alpha.1748383937, a pre-release, not a release; install a release "
        f"(>= 3.187.0): {INSTALL_PULUMI}"
    )
    assert found["Pulumi backend"].status == "not checked"


#: The Docker engine's answer to a client whose API version it does not serve, word for word
#: (moby/moby, api/server/middleware/version.go at 3a633a7), as `docker version` prints it.
TOO_NEW = (
    "Error response from daemon: client version 1.52 is too new. Maximum supported API version "
    "is 1.41"
)
TOO_OLD = (
    "Error response from daemon: client version 1.24 is too old. Minimum supported API version "
    "is 1.44, please upgrade your client to a newer version"
)


@pytest.mark.parametrize(
    ("answer", "env", "words"),
    [
        (
            TOO_NEW,
            {},
            "Docker API version mismatch: the client asks for API 1.52, the engine serves at most "
            "1.41; upgrade Docker Engine, or export DOCKER_API_VERSION=1.41",
        ),
        (
            TOO_NEW,
            {"DOCKER_API_VERSION": "1.52"},
            "Docker API version mismatch: the client asks for API 1.52, the engine serves at most "
            "1.41; unset DOCKER_API_VERSION (it is 1.52), or set it to 1.41",
        ),
        (
            TOO_OLD,
            {},
            "Docker API version mismatch: the client asks for API 1.24, the engine serves at least "
            "1.44; upgrade the docker CLI",
        ),
    ],
)
def test_a_docker_api_version_mismatch_is_named(
    tmp_path: Path, answer: str, env: dict[str, str], words: str
) -> None:
    bin_dir = fake_tools(tmp_path)
    script(bin_dir / "docker", f"echo 'Client: Docker Engine'\necho '{answer}' >&2\nexit 1")
    m = machine_for(bin_dir, env, tmp_path)
    m.docker()
    assert by_what(m.findings)["Docker with BuildKit"] == Finding(
        "MISSING", "Docker with BuildKit", words
    )

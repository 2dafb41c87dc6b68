"""infra/doctor/check.py: every check in order, one finding each; what the doctor cannot check
offline says "not checked", never "ok"; the machine's tools and environment are injectable."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import pytest
import yaml

from infra.doctor.check import Doctor
from infra.paths import PROJECT_FILE, ROOT
from tests.infra.doctor.harness import by_what, doctor_for, fake_tools

#: The doctor renders the stack to check its config and only counts what it registered: each
#: config is rendered once for the session.
pytestmark = pytest.mark.usefixtures("shared_renders")


def test_a_bare_machine_is_told_what_to_install(tmp_path: Path) -> None:
    found = by_what(doctor_for("dev", None, {}, tmp_path).check())
    assert (
        found["Pulumi CLI"].status == "MISSING" and "get.pulumi.com" in found["Pulumi CLI"].detail
    )
    assert found["Pulumi backend"].status == "not checked"
    assert found["Docker with BuildKit"].status == "MISSING"
    assert (
        "gcloud components install gke-gcloud-auth-plugin" in found["gke-gcloud-auth-plugin"].detail
    )
    assert found["GCP credentials"].status == "MISSING"
    assert "gcloud auth application-default login" in found["GCP credentials"].detail
    assert found["Pulumi CLI checks"].status == "ok"
    assert found["stack config"].status == "ok"
    assert found["secrets"].status == "ok", "dev's apps declare no Secret"


def test_a_ready_machine_and_what_it_cannot_check(tmp_path: Path) -> None:
    creds = tmp_path / ".config/gcloud/application_default_credentials.json"
    creds.parent.mkdir(parents=True)
    creds.write_text("{}")
    findings = doctor_for("dev", fake_tools(tmp_path), {}, tmp_path).check()
    found = by_what(findings)
    assert found["Pulumi CLI"].status == "ok" and "3.259.0" in found["Pulumi CLI"].detail
    assert str(tmp_path / "bin" / "pulumi") in found["Pulumi CLI"].detail, "the one it runs"
    assert found["Pulumi backend"].status == "ok" and "file://~" in found["Pulumi backend"].detail
    assert found["Docker with BuildKit"].status == "ok"
    assert found["gke-gcloud-auth-plugin"].status == "ok"
    assert found["GCP credentials"].status == "not checked", "found is not verified"
    assert found["project APIs"].status == "not checked"
    assert not [f for f in findings if f.status == "MISSING"]


def test_the_clis_own_refusal_is_reported(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "stacks").mkdir()
    project = yaml.safe_load(PROJECT_FILE.read_text())
    project["config"]["region"].pop("default")
    (tmp_path / "Pulumi.yaml").write_text(yaml.safe_dump(project))
    (tmp_path / "stacks/Pulumi.local.yaml").write_text(
        (ROOT / "stacks/Pulumi.local.yaml").read_text()
    )
    monkeypatch.setattr("infra.paths.PROJECT_FILE", tmp_path / "Pulumi.yaml")
    found = by_what(doctor_for("local", fake_tools(tmp_path), {}, tmp_path).check())
    assert found["Pulumi CLI checks"].status == "MISSING"
    assert (
        "Stack 'local' is missing configuration value 'region'" in found["Pulumi CLI checks"].detail
    )
    assert found["stack config"].status == "not checked"


def test_the_pulumi_finder_is_injectable(tmp_path: Path) -> None:
    asked: list[dict[str, str]] = []

    def find(env: Mapping[str, str]) -> str | None:
        asked.append(dict(env))
        return None

    d = Doctor("dev", env={"PATH": str(tmp_path)}, find_pulumi=find, home=tmp_path)
    assert d.machine.pulumi_cli() is None
    assert asked == [{"PATH": str(tmp_path)}], "asked once, with the doctor's env"
    assert by_what(d.findings)["Pulumi CLI"].status == "MISSING"


def _pinned_local(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, smoke_pinned: bool) -> None:
    """The local stack with every color on a pinned image, and each app's smoke client pinned
    too when ``smoke_pinned``, in a scratch project the doctor reads."""
    (tmp_path / "stacks").mkdir()
    (tmp_path / "Pulumi.yaml").write_text(PROJECT_FILE.read_text())
    document = yaml.safe_load((ROOT / "stacks/Pulumi.local.yaml").read_text())
    for name, app in document["config"]["gke-bluegreen:apps"].items():
        colors = app.setdefault("colors", {})
        for color in ("blue", "green"):
            colors.setdefault(color, {})["image"] = f"{name}:src-{'0' * 12}"
        if smoke_pinned:
            app.setdefault("smoke", {})["image"] = f"smoke:src-{'1' * 12}"
    (tmp_path / "stacks/Pulumi.local.yaml").write_text(yaml.safe_dump(document))
    monkeypatch.setattr("infra.paths.PROJECT_FILE", tmp_path / "Pulumi.yaml")


def test_a_stack_that_builds_nothing_needs_no_docker(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _pinned_local(tmp_path, monkeypatch, smoke_pinned=True)
    found = by_what(doctor_for("local", None, {}, tmp_path).check())
    assert found["stack config"].status == "ok", found["stack config"].detail
    docker = found["Docker with BuildKit"]
    assert docker.status == "ok" and "builds no image" in docker.detail, docker


def test_a_stack_that_builds_the_smoke_client_needs_docker(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _pinned_local(tmp_path, monkeypatch, smoke_pinned=False)
    found = by_what(doctor_for("local", None, {}, tmp_path).check())
    assert found["Docker with BuildKit"].status == "MISSING"

"""infra/doctor/stack.py: the stack's app secrets, set and encrypted, and a secrets provider that
can decrypt them, each missing one named with the command that fixes it."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from infra.doctor.findings import Finding
from infra.doctor.stack import Stack
from infra.paths import PROJECT_FILE, ROOT
from tests.infra.doctor.harness import by_what

#: The doctor renders the stack to check its config and only counts what it registered: each
#: config is rendered once for the session.
pytestmark = pytest.mark.usefixtures("shared_renders")


def test_unset_secrets_name_the_key_and_the_command() -> None:
    stack = Stack("imageview", env={})
    stack.secrets()
    found = by_what(stack.findings)
    assert found["secrets"].status == "MISSING"
    assert found["secrets"].detail == (
        "secrets.imageview.id is not set (and 1 more); run: pulumi config set --secret --path "
        "'secrets.imageview.id' VALUE --stack imageview"
    )
    assert found["secrets provider"].status == "MISSING"
    assert "pulumi stack init imageview --secrets-provider" in found["secrets provider"].detail


def _with_stack_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, extra: dict[str, object]
) -> None:
    (tmp_path / "stacks").mkdir()
    (tmp_path / "Pulumi.yaml").write_text(PROJECT_FILE.read_text())
    document = yaml.safe_load((ROOT / "stacks/Pulumi.imageview.yaml").read_text())
    config = document["config"]
    secrets = extra.pop("secrets", None)
    if secrets is not None:
        config["gke-bluegreen:secrets"] = secrets
    document.update(extra)
    (tmp_path / "stacks/Pulumi.imageview.yaml").write_text(yaml.safe_dump(document))
    monkeypatch.setattr("infra.paths.PROJECT_FILE", tmp_path / "Pulumi.yaml")


SECURE = {"imageview": {"id": {"secure": "v1:AAAA"}, "key": {"secure": "v1:BBBB"}}}


@pytest.mark.parametrize(
    ("extra", "env", "secrets", "provider"),
    [
        ({"secrets": SECURE, "encryptionsalt": "v1:x"}, {}, "ok", "MISSING"),
        (
            {"secrets": SECURE, "encryptionsalt": "v1:x"},
            {"PULUMI_CONFIG_PASSPHRASE": "p"},
            "ok",
            "ok",
        ),
        (
            {
                "secrets": SECURE,
                "secretsprovider": "gcpkms://projects/p/locations/l/keyRings/r/cryptoKeys/k",
                "encryptedkey": "x",
            },
            {},
            "ok",
            "not checked",
        ),
        (
            {
                "secrets": {"imageview": {"id": "asa", "key": {"secure": "v1:B"}}},
                "encryptionsalt": "v1:x",
            },
            {"PULUMI_CONFIG_PASSPHRASE": "p"},
            "MISSING",
            "ok",
        ),
    ],
)
def test_encrypted_secrets_and_their_provider(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    extra: dict[str, object],
    env: dict[str, str],
    secrets: str,
    provider: str,
) -> None:
    _with_stack_file(tmp_path, monkeypatch, dict(extra))
    stack = Stack("imageview", env=env)
    stack.secrets()
    found = by_what(stack.findings)
    assert found["secrets"].status == secrets, found["secrets"]
    assert found["secrets provider"].status == provider, found["secrets provider"]
    if secrets == "MISSING":
        assert "plaintext in the stack file" in found["secrets"].detail
        assert "asa" not in found["secrets"].detail


def _dev_with(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, top: str) -> None:
    """dev's stack file, which declares no app Secret, with ``top`` keys added."""
    (tmp_path / "stacks").mkdir()
    (tmp_path / "Pulumi.yaml").write_text(PROJECT_FILE.read_text())
    (tmp_path / "stacks/Pulumi.dev.yaml").write_text(
        top + (ROOT / "stacks/Pulumi.dev.yaml").read_text()
    )
    monkeypatch.setattr("infra.paths.PROJECT_FILE", tmp_path / "Pulumi.yaml")


@pytest.mark.parametrize(
    ("env", "status", "words"),
    [
        (
            {},
            "MISSING",
            "the stack's secrets provider is a passphrase (encryptionsalt: in Pulumi.dev.yaml) and "
            "neither PULUMI_CONFIG_PASSPHRASE nor PULUMI_CONFIG_PASSPHRASE_FILE is set, so pulumi "
            "up stops for it; export one of them",
        ),
        ({"PULUMI_CONFIG_PASSPHRASE": ""}, "ok", "PULUMI_CONFIG_PASSPHRASE is set"),
        ({"PULUMI_CONFIG_PASSPHRASE_FILE": "{tmp}/phrase"}, "ok", "read from"),
        (
            {"PULUMI_CONFIG_PASSPHRASE_FILE": "{tmp}/no-such-file"},
            "MISSING",
            "PULUMI_CONFIG_PASSPHRASE_FILE={tmp}/no-such-file is not a file it can read",
        ),
    ],
)
def test_a_passphrase_stack_needs_its_passphrase_even_without_secrets(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, env: dict[str, str], status: str, words: str
) -> None:
    """`pulumi up` opens a passphrase provider whatever the config holds."""
    _dev_with(tmp_path, monkeypatch, "encryptionsalt: v1:c2FsdA==:v1:AAAA:BBBB\n")
    (tmp_path / "phrase").write_text("correct horse\n")
    stack = Stack("dev", env={k: v.format(tmp=tmp_path) for k, v in env.items()})
    stack.secrets()
    found = by_what(stack.findings)
    assert found["secrets"] == Finding("ok", "secrets", "no app declares a Secret")
    assert found["secrets provider"].status == status
    assert words.format(tmp=tmp_path) in found["secrets provider"].detail


def test_a_stack_without_secrets_or_provider_has_no_provider_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _dev_with(tmp_path, monkeypatch, "")
    stack = Stack("dev", env={})
    stack.secrets()
    assert [f.what for f in stack.findings] == ["secrets"]

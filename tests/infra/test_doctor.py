"""infra/doctor.py: one line per thing `pulumi up` needs, with what to run when it is missing;
what it cannot check offline says "not checked", never "ok"."""

from __future__ import annotations

import argparse
import importlib.util
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

import pytest
import yaml

from infra import doctor
from infra.doctor import Doctor, Finding
from infra.paths import PROJECT_FILE, ROOT
from tests.prerequisites import unavailable


def fake_tools(tmp_path: Path, **versions: str) -> Path:
    """Executables that answer like the real ones: pulumi, docker, gke-gcloud-auth-plugin."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    scripts = {
        "pulumi": f"""case "$1" in
  version) echo v{versions.get("pulumi", "3.259.0")};;
  whoami) echo "User: alice"; echo "Backend URL: file://~";;
esac""",
        "docker": f'[ "$1" = version ] && echo {versions.get("docker", "28.2.2")}',
        "gke-gcloud-auth-plugin": "echo Kubernetes v1.30.0",
    }
    for name, body in scripts.items():
        if name in versions and versions[name] == "absent":
            continue
        script = bin_dir / name
        script.write_text(f"#!/bin/sh\n{body}\n")
        script.chmod(0o755)
    return bin_dir


def doctor_for(stack: str, bin_dir: Path | None, env: dict[str, str], home: Path) -> Doctor:
    """A doctor whose PATH is ``bin_dir`` alone (no PATH entry at all: nothing is found)."""
    path = str(bin_dir) if bin_dir else str(home / "no-such-dir")
    return Doctor(stack, env={"PATH": path, **env}, home=home)


def by_what(findings: list[Finding]) -> dict[str, Finding]:
    return {f.what: f for f in findings}


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
    found = by_what(doctor_for("dev", fake_tools(tmp_path, **versions), {}, tmp_path).check())
    assert found[what].status == "MISSING" and words in found[what].detail


def test_a_stopped_docker_engine(tmp_path: Path) -> None:
    bin_dir = fake_tools(tmp_path)
    (bin_dir / "docker").write_text(
        "#!/bin/sh\necho 'Cannot connect to the Docker daemon' >&2\nexit 1\n"
    )
    found = by_what(doctor_for("dev", bin_dir, {}, tmp_path).check())
    assert found["Docker with BuildKit"].status == "MISSING"
    assert "start it" in found["Docker with BuildKit"].detail


def test_unset_secrets_name_the_key_and_the_command(tmp_path: Path) -> None:
    found = by_what(doctor_for("imageview", fake_tools(tmp_path), {}, tmp_path).check())
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
    found = by_what(doctor_for("imageview", fake_tools(tmp_path), env, tmp_path).check())
    assert found["secrets"].status == secrets, found["secrets"]
    assert found["secrets provider"].status == provider, found["secrets provider"]
    if secrets == "MISSING":
        assert "plaintext in the stack file" in found["secrets"].detail
        assert "asa" not in found["secrets"].detail


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


def test_the_cli_end_to_end(tmp_path: Path) -> None:
    """Through ``python -m``, with the Pulumi CLI named by $PULUMI outside PATH."""
    bin_dir = fake_tools(tmp_path)
    stand_in = tmp_path / "elsewhere" / "my-pulumi"
    stand_in.parent.mkdir()
    (bin_dir / "pulumi").rename(stand_in)
    env = {
        **os.environ,
        "PATH": f"{bin_dir}:/usr/bin:/bin",
        "HOME": str(tmp_path),
        "PULUMI": str(stand_in),
    }
    result = subprocess.run(
        [sys.executable, "-m", "infra.doctor", "--stack", "local"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "pulumi up --stack local: what this machine and the stack need"
    assert re.match(rf"ok +Pulumi CLI +3\.259\.0 .* at {re.escape(str(stand_in))}$", lines[1])
    assert not [line for line in lines if "gke-gcloud-auth-plugin" in line], "local needs no GCP"
    assert lines[-1].startswith("0 missing")


def test_an_unknown_stack_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert doctor.main(["--stack", "staging"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "stacks are dev, imageview, local, prod" in err


def _stand_in(tmp_path: Path, version: str) -> Path:
    """A Pulumi CLI stand-in outside PATH: prints ``version`` and a backend."""
    script = tmp_path / "stand-in" / "pulumi-stand-in"
    script.parent.mkdir()
    script.write_text(
        "#!/bin/sh\n"
        f'case "$1" in version) echo v{version};; whoami) echo "Backend URL: file://stand-in";; '
        "esac\n"
    )
    script.chmod(0o755)
    return script


def _pulumi_findings(tmp_path: Path, env: dict[str, str]) -> dict[str, Finding]:
    """Only the Pulumi CLI and backend checks (no render), on a PATH whose pulumi is 3.259.0."""
    d = doctor_for("dev", fake_tools(tmp_path), env, tmp_path)
    d.backend(d.pulumi_cli())
    return by_what(d.findings)


def test_the_doctor_runs_the_pulumi_cli_that_PULUMI_names(tmp_path: Path) -> None:
    stand_in = _stand_in(tmp_path, "3.301.2")
    found = _pulumi_findings(tmp_path, {"PULUMI": str(stand_in)})
    assert found["Pulumi CLI"].status == "ok"
    assert "3.301.2" in found["Pulumi CLI"].detail, "not the 3.259.0 on PATH"
    assert found["Pulumi backend"].status == "ok"
    assert "file://stand-in" in found["Pulumi backend"].detail, "whoami asked the stand-in too"


def test_an_old_pulumi_named_by_PULUMI_is_refused(tmp_path: Path) -> None:
    stand_in = _stand_in(tmp_path, "3.100.0")
    found = _pulumi_findings(tmp_path, {"PULUMI": str(stand_in)})
    assert found["Pulumi CLI"].status == "MISSING"
    assert str(stand_in) in found["Pulumi CLI"].detail and "3.100.0" in found["Pulumi CLI"].detail
    assert found["Pulumi backend"].status == "not checked"


def test_PULUMI_that_names_nothing_is_missing_and_says_so(tmp_path: Path) -> None:
    ghost = str(tmp_path / "no-such-pulumi")
    found = _pulumi_findings(tmp_path, {"PULUMI": ghost})
    assert found["Pulumi CLI"].status == "MISSING"
    assert f"PULUMI={ghost}" in found["Pulumi CLI"].detail, "not pulumi on PATH, silently"


def test_the_pulumi_finder_is_injectable(tmp_path: Path) -> None:
    asked: list[dict[str, str]] = []

    def find(env: Mapping[str, str]) -> str | None:
        asked.append(dict(env))
        return None

    d = Doctor("dev", env={"PATH": str(tmp_path)}, find_pulumi=find, home=tmp_path)
    assert d.pulumi_cli() is None
    assert asked == [{"PATH": str(tmp_path)}], "asked once, with the doctor's env"
    assert by_what(d.findings)["Pulumi CLI"].status == "MISSING"


def _options(parser: argparse.ArgumentParser) -> list[argparse.Action]:
    return [a for a in parser._actions if a.option_strings and a.dest != "help"]


def test_the_help_explains_every_option_and_the_sequence() -> None:
    parser = doctor.parser()
    assert parser.description and parser.epilog
    assert parser.description.rstrip().endswith("."), "a whole description"
    options = _options(parser)
    assert [a.dest for a in options] == ["stack"]
    for action in options:
        assert action.help and action.help.strip() and action.help != argparse.SUPPRESS
    # The sequence the epilog shows runs: its modules exist and its make targets are real.
    makefile = (ROOT / "Makefile").read_text()
    modules = re.findall(r"^  python -m ([\w.]+)", parser.epilog, re.MULTILINE)
    targets = re.findall(r"^  make ([\w-]+)", parser.epilog, re.MULTILINE)
    assert modules == ["infra.doctor"] and targets == ["preview", "up"]
    assert all(importlib.util.find_spec(m) for m in modules)
    assert all(re.search(rf"^{t}:", makefile, re.MULTILINE) for t in targets)


def test_help_is_printed_and_exits_0(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        doctor.main(["--help"])
    assert exit_.value.code == 0
    out = capsys.readouterr().out
    assert doctor.DESCRIPTION.splitlines()[0] in out and "--stack" in out


# ------------------------------------------------------------------ odd answers from the tools


def _script(path: Path, body: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"#!/bin/sh\n{body}\n")
    path.chmod(0o755)
    return path


def test_a_pre_release_pulumi_is_not_new_enough(tmp_path: Path) -> None:
    """3.273.0-alpha is above 3.187.0 by its numbers, but it is no release."""
    stand_in = _stand_in(tmp_path, "3.273.0-alpha.1748383937+g1a2b3c4")
    found = _pulumi_findings(tmp_path, {"PULUMI": str(stand_in)})
    assert found["Pulumi CLI"].status == "MISSING"
    assert found["Pulumi CLI"].detail == (
        f"{stand_in} is 3.273.0-alpha.1748383937, a pre-release, not a release; install a release "
        f"(>= 3.187.0): {doctor.INSTALL_PULUMI}"
    )
    assert found["Pulumi backend"].status == "not checked"


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
    monkeypatch.setattr(doctor, "TIMEOUT_S", 1)
    stand_in = _script(tmp_path / "stand-in/pulumi", f'case "$1" in {pulumi} esac')
    bin_dir = fake_tools(tmp_path)
    if docker:
        _script(bin_dir / "docker", docker)
    d = doctor_for("dev", bin_dir, {"PULUMI": str(stand_in)}, tmp_path)
    d.backend(d.pulumi_cli())
    d.docker()
    found = by_what(d.findings)
    assert found[what].status == "MISSING"
    assert found[what].detail.startswith(words.format(pulumi=stand_in)), found[what].detail
    assert "not logged in" not in found[what].detail


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
    _script(bin_dir / "docker", f"echo 'Client: Docker Engine'\necho '{answer}' >&2\nexit 1")
    d = doctor_for("dev", bin_dir, env, tmp_path)
    d.docker()
    assert by_what(d.findings)["Docker with BuildKit"] == Finding(
        "MISSING", "Docker with BuildKit", words
    )


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
    env = {k: v.format(tmp=tmp_path) for k, v in env.items()}
    d = doctor_for("dev", fake_tools(tmp_path), env, tmp_path)
    d.secrets()
    found = by_what(d.findings)
    assert found["secrets"] == Finding("ok", "secrets", "no app declares a Secret")
    assert found["secrets provider"].status == status
    assert words.format(tmp=tmp_path) in found["secrets provider"].detail


def test_a_stack_without_secrets_or_provider_has_no_provider_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _dev_with(tmp_path, monkeypatch, "")
    d = doctor_for("dev", fake_tools(tmp_path), {}, tmp_path)
    d.secrets()
    assert [f.what for f in d.findings] == ["secrets"]


def test_make_doctor_without_the_venv_says_to_run_make_setup(tmp_path: Path) -> None:
    if shutil.which("make") is None:
        unavailable("make is missing")
    shutil.copy(ROOT / "Makefile", tmp_path / "Makefile")
    (tmp_path / "stacks").mkdir()
    shutil.copy(ROOT / "stacks/Pulumi.dev.yaml", tmp_path / "stacks/Pulumi.dev.yaml")
    result = subprocess.run(
        ["make", "doctor", "STACK=dev"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode != 0 and result.stdout == ""
    first = result.stderr.splitlines()[0]
    assert first == "error: .venv/bin/python is missing: run make setup first (it creates .venv)"

"""infra/doctor.py: one line per thing `pulumi up` needs, with what to run when it is missing;
what it cannot check offline says "not checked", never "ok"."""

from __future__ import annotations

import argparse
import importlib.util
import re
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

import pytest
import yaml

from infra import doctor
from infra.doctor import Doctor, Finding
from infra.paths import PROJECT_FILE, ROOT

#: The doctor renders the stack to check its config and only counts what it registered: each
#: config is rendered once for the session.
pytestmark = pytest.mark.usefixtures("shared_renders")


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


def test_the_cli_end_to_end(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The whole command on a ready machine, with the Pulumi CLI named by $PULUMI outside PATH."""
    bin_dir = fake_tools(tmp_path)
    stand_in = tmp_path / "elsewhere" / "my-pulumi"
    stand_in.parent.mkdir()
    (bin_dir / "pulumi").rename(stand_in)
    monkeypatch.setenv("PATH", f"{bin_dir}:/usr/bin:/bin")
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("PULUMI", str(stand_in))
    monkeypatch.chdir(ROOT)
    code = doctor.main(["--stack", "local"])
    out, err = capsys.readouterr()
    assert code == 0, out + err
    lines = out.splitlines()
    assert lines[0] == "pulumi up --stack local: what this machine and the stack need"
    assert re.match(rf"ok +Pulumi CLI +3\.259\.0 .* at {re.escape(str(stand_in))}$", lines[1])
    assert not [line for line in lines if "gke-gcloud-auth-plugin" in line], "local needs no GCP"
    assert lines[-1].startswith("0 missing")


def test_python_m_infra_doctor_exits_with_the_code_of_its_answer() -> None:
    """In a fresh process, as a user starts it: a stack that does not exist is one line and exit
    2, nothing on stdout."""
    result = subprocess.run(
        [sys.executable, "-m", "infra.doctor", "--stack", "staging"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert (result.returncode, result.stdout) == (2, ""), result.stderr
    assert result.stderr.startswith("error: no stack 'staging'") and result.stderr.count("\n") == 1


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

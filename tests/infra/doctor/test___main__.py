"""infra/doctor/__main__.py: the command line, end to end through ``python -m`` and ``make``:
the report, one line for an unknown stack, and a help that explains every option."""

from __future__ import annotations

import argparse
import importlib.util
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from infra.doctor.__main__ import DESCRIPTION, main, parser
from infra.paths import ROOT
from tests.infra.doctor.harness import fake_tools
from tests.prerequisites import unavailable


def test_the_cli_end_to_end(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    shared_renders: object,
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
    code = main(["--stack", "local"])
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
    assert main(["--stack", "staging"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "stacks are dev, imageview, local, prod" in err


def _options(parser: argparse.ArgumentParser) -> list[argparse.Action]:
    return [a for a in parser._actions if a.option_strings and a.dest != "help"]


def test_the_help_explains_every_option_and_the_sequence() -> None:
    cli = parser()
    assert cli.description and cli.epilog
    assert cli.description.rstrip().endswith("."), "a whole description"
    options = _options(cli)
    assert [a.dest for a in options] == ["stack"]
    for action in options:
        assert action.help and action.help.strip() and action.help != argparse.SUPPRESS
    # The sequence the epilog shows runs: its modules exist and its make targets are real.
    makefile = (ROOT / "Makefile").read_text()
    modules = re.findall(r"^  python -m ([\w.]+)", cli.epilog, re.MULTILINE)
    targets = re.findall(r"^  make ([\w-]+)", cli.epilog, re.MULTILINE)
    assert modules == ["infra.doctor"] and targets == ["preview", "up"]
    assert all(importlib.util.find_spec(m) for m in modules)
    assert all(re.search(rf"^{t}:", makefile, re.MULTILINE) for t in targets)


def test_help_is_printed_and_exits_0(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["--help"])
    assert exit_.value.code == 0
    out = capsys.readouterr().out
    assert DESCRIPTION.splitlines()[0] in out and "--stack" in out


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

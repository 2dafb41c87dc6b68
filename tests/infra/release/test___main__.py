"""infra/release/__main__.py: the command line, driven through main([...]): every subcommand and
option explains itself (checked on argparse's parser, not on wording), bad input is one line and
exit 2, and each subcommand reaches its function."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import pytest

from infra.paths import ROOT
from infra.release import deployed
from infra.release.__main__ import build_parser, main
from tests.infra.release.harness import app_node, up

COMMANDS = {
    "status",
    "start",
    "shift",
    "abort",
    "run",
    "promote",
    "rollback",
    "finish",
    "verify",
    "check",
}


def _subparsers(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    (action,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    return dict(action.choices)


def test_the_tool_and_each_subcommand_explain_themselves() -> None:
    parser = build_parser()
    assert parser.description and parser.description.rstrip().endswith(".")
    assert parser.epilog and all(
        f"release {c} " in parser.epilog for c in COMMANDS - {"verify", "check"}
    )
    (action,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    helps = {choice.dest: choice.help for choice in action._choices_actions}
    assert set(helps) == set(_subparsers(parser)) == COMMANDS
    for name, sub in _subparsers(parser).items():
        assert helps[name] and "\n" not in str(helps[name]), name
        assert sub.description and sub.description.endswith("."), name
        for option in sub._actions:
            if isinstance(option, argparse._HelpAction):
                continue
            assert option.help, f"{name} {option.option_strings} has no help"


def test_ranges_are_checked_by_the_parser(capsys: pytest.CaptureFixture[str]) -> None:
    for argv in (
        ["verify", "--stack", "dev", "--app", "kubia", "--requests", "0"],
        ["promote", "--stack", "dev", "--app", "kubia", "--verify-requests", "1001"],
        ["finish", "--stack", "dev", "--app", "kubia", "--idle-replicas", "-1"],
    ):
        with pytest.raises(SystemExit) as caught:
            main(argv)
        assert caught.value.code == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "is not a whole number from" in err, err
    args = build_parser().parse_args(
        ["finish", "--stack", "dev", "--app", "kubia", "--idle-replicas", "0"]
    )
    assert args.idle_replicas == 0


def test_bad_input_is_one_line(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for argv, words in (
        (["promote", "--stack", "nope", "--app", "x"], "no stack 'nope'"),
        (
            ["start", "--stack", "imageview", "--app", "imageview", "--outputs", "/nonexistent"],
            "not a JSON outputs file",
        ),
        (
            ["status", "--stack", "imageview", "--app", ""],
            "--app '': stack imageview has no such app; its apps: imageview",
        ),
    ):
        assert main(argv) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and err.startswith("error: ") and words in err, err


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("config:\n  gke-bluegreen:apps: [unclosed\n", "cannot read it as YAML"),
        ("- a list\n- not a stack file\n", "must be a mapping with a config: key"),
        (None, "the stack file of imageview is refused as it is now (config apps.imageview."),
    ],
)
def test_a_stack_file_that_is_not_usable_is_one_line(
    project: Path, capsys: pytest.CaptureFixture[str], text: str | None, words: str
) -> None:
    path = project / "stacks/Pulumi.imageview.yaml"
    path.write_text(text or path.read_text().replace("replicas: 3", "replicas: lots"))
    assert main(["promote", "--stack", "imageview", "--app", "imageview"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and words in err, err


def test_status_prints_the_table_or_json(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["status", "--stack", "dev"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split()[0] == "APP" and len(lines) == 5
    assert lines[-1].startswith("SERVED: unknown (the outputs were not read)")
    assert main(["status", "--stack", "dev", "--app", "kubia", "--json"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert [a["app"] for a in document["apps"]] == ["kubia"]


def test_a_release_through_the_command_line(
    project: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    applied: list[str] = []

    def fake_up(stack: str, message: str, extra: Sequence[str] = ()) -> None:
        applied.append(message.split(":", maxsplit=1)[0])

    monkeypatch.setattr(deployed, "pulumi_up", fake_up)
    monkeypatch.setenv("PULUMI", "true")  # there is a CLI to apply with (faked above)
    file = str(up(project, "dev"))
    common = ["--stack", "dev", "--app", "kubia", "--outputs", file]
    argv = ["start", *common, "--set", "apps.kubia.colors.green.env.V=2", "--apply"]
    assert main(argv) == 0
    assert capsys.readouterr().out.startswith("start: blue stays live")
    assert main(["rollback", *common, "--apply"]) == 2
    assert "green is the candidate (of a release not promoted yet" in capsys.readouterr().err
    assert main(["promote", "--stack", "dev", "--app", "kubia"]) == 0
    assert capsys.readouterr().out.startswith("promote: traffic moves to green")
    assert applied == ["start"], "only --apply runs pulumi up"
    assert app_node(project, "dev", "kubia")["activeColor"] == "green"
    assert main(["check", "--stack", "dev", "--outputs", file]) == 1, "two apps unreleased"
    out = capsys.readouterr().out
    assert "kubia" not in out and out.splitlines()[-1] == "dev: not safe to deploy"


def test_a_pulumi_cli_that_hangs_is_one_line(
    project: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    fake = project / "pulumi"
    fake.write_text("#!/bin/sh\nexec sleep 30\n")
    fake.chmod(0o755)
    monkeypatch.setenv("PULUMI", str(fake))
    monkeypatch.setattr(deployed, "PULUMI_TIMEOUT_S", 0.1)
    assert main(["check", "--stack", "imageview"]) == 2
    err = capsys.readouterr().err
    assert err == (
        "error: pulumi stack output did not finish within 0.1 s; stopped it: run the step again\n"
    )


def test_python_m_infra_release_help_lists_every_subcommand() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "infra.release", "--help"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert (result.returncode, result.stderr) == (0, "")
    listed = {line.split()[0] for line in result.stdout.splitlines() if line.startswith("    ")}
    assert listed >= COMMANDS, result.stdout

"""infra/e2e/tool.py: the stack file read as data, the release tool run as a user runs it (here a
stand-in ``infra.release`` in a scratch project root), and the Pulumi CLI that ``$PULUMI`` names;
each problem is one ToolError line."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

import pytest

from infra.e2e import tool
from infra.e2e.tool import Recorded, ToolError


@pytest.fixture
def root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A scratch project root the tool module works in."""
    (tmp_path / "stacks").mkdir()
    monkeypatch.setattr(tool, "ROOT", tmp_path)
    return tmp_path


def stack(root: Path, text: str, name: str = "s") -> None:
    (root / "stacks" / f"Pulumi.{name}.yaml").write_text(text)


def test_the_live_color_and_service_as_the_stack_file_says(root: Path) -> None:
    stack(
        root,
        "config:\n  gke-bluegreen:apps:\n"
        "    a:\n      activeColor: green\n      service:\n        name: a-http\n"
        "    b:\n      source: apps/b\n",
    )
    assert tool.recorded("s", "a") == Recorded("green", "a-http")
    assert tool.recorded("s", "b") == Recorded("blue", "b")


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("config:\n  gke-bluegreen:apps:\n    b: {}\n", "has no app 'a' (its apps: b)"),
        ("config: {}\n", "has no app 'a' (its apps: none)"),
        ("- a list\n", "has no app 'a' (its apps: none)"),
        ("config: [\n", "cannot read stacks/Pulumi.s.yaml: "),
    ],
)
def test_a_stack_file_without_the_app_is_refused(root: Path, text: str, says: str) -> None:
    stack(root, text)
    with pytest.raises(ToolError, match=re.escape(says)):
        tool.recorded("s", "a")


def test_a_stack_file_that_is_not_utf8_is_refused(root: Path) -> None:
    (root / "stacks" / "Pulumi.s.yaml").write_bytes("config: {}\n".encode("utf-16"))
    with pytest.raises(ToolError, match=re.escape("cannot read stacks/Pulumi.s.yaml")):
        tool.recorded("s", "a")


def test_an_unknown_stack_names_the_known_ones(root: Path) -> None:
    stack(root, "config: {}\n", "dev")
    stack(root, "config: {}\n", "local")
    with pytest.raises(
        ToolError, match=re.escape("no stack file stacks/Pulumi.x.yaml: stacks are dev, local")
    ):
        tool.recorded("x", "a")


def fake_module(root: Path, module: str, body: str) -> None:
    """``python -m MODULE`` from ``root`` runs ``body``."""
    folder = root.joinpath(*module.split("."))
    folder.mkdir(parents=True)
    for parent in [folder, *folder.parents]:
        if parent == root:
            break
        (parent / "__init__.py").touch()
    (folder / "__main__.py").write_text("import json, sys, time\n" + body)


def test_a_step_runs_with_apply_from_the_project_root(root: Path) -> None:
    seen = root / "argv.json"
    fake_module(
        root,
        "infra.release",
        f"open({str(seen)!r}, 'w').write(json.dumps(sys.argv[1:]))\nsys.exit(3)\n",
    )
    ran = tool.release_step("promote", "s", "a", ["--verify-requests", "1"], 60)
    assert ran.code == 3 and ran.seconds > 0
    assert json.loads(seen.read_text()) == [
        "promote", "--stack", "s", "--app", "a", "--apply", "--verify-requests", "1",
    ]  # fmt: skip


def test_a_step_that_outlasts_its_time_is_stopped(root: Path) -> None:
    fake_module(root, "infra.release", "time.sleep(30)\n")
    with pytest.raises(
        ToolError, match=re.escape("the release tool's start did not finish within 0.5 s")
    ):
        tool.release_step("start", "s", "a", [], 0.5)


def fake_pulumi(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, body: str) -> None:
    script = tmp_path / "pulumi.py"
    script.write_text("import json, sys\n" + body)
    path = tmp_path / "pulumi"
    path.write_text(f'#!/bin/sh\nexec "{sys.executable}" "{script}" "$@"\n')
    path.chmod(0o755)
    monkeypatch.setenv("PULUMI", str(path))


def test_the_outputs_come_from_pulumi_stack_output(
    root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    outputs = {"apps": {"a": {"url": "http://203.0.113.9", "active_color": "blue"}}}
    fake_pulumi(
        tmp_path,
        monkeypatch,
        "assert sys.argv[1:] == ['stack', 'output', '--json', '--stack', 's'], sys.argv\n"
        f"print(json.dumps({outputs!r}))\n",
    )
    assert tool.outputs("s") == outputs
    assert tool.live_url("s", "a") == "http://203.0.113.9"
    with pytest.raises(
        ToolError, match=re.escape("the outputs of stack s name no app b: is it deployed")
    ):
        tool.live_url("s", "b")


@pytest.mark.parametrize(
    ("body", "says"),
    [
        (
            "print('error: no stack named s found', file=sys.stderr); sys.exit(255)\n",
            "pulumi stack output failed (exit 255): error: no stack named s found",
        ),
        ("print('{not json')\n", "pulumi stack output did not print JSON"),
        ("print('[]')\n", "pulumi stack output did not print a JSON object"),
    ],
)
def test_outputs_pulumi_cannot_give_are_refused(
    root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, body: str, says: str
) -> None:
    fake_pulumi(tmp_path, monkeypatch, body)
    with pytest.raises(ToolError, match=re.escape(says)):
        tool.outputs("s")


def test_no_pulumi_is_one_error(root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PULUMI", str(root / "nowhere"))
    with pytest.raises(ToolError, match=r"the Pulumi CLI \(.*nowhere\) is not on PATH"):
        tool.outputs("s")


def status_printing(root: Path, monkeypatch: pytest.MonkeyPatch, data: object) -> None:
    """`pulumi stack output` prints {}, and the release tool's status prints ``data``."""
    monkeypatch.setattr(tool, "outputs", lambda stack: {})
    fake_module(
        root,
        "infra.release",
        "assert sys.argv[1:6] == ['status', '--json', '--stack', 's', '--app'], sys.argv\n"
        "assert sys.argv[7] == '--outputs' and json.load(open(sys.argv[8])) == {}, sys.argv\n"
        f"print(json.dumps({data!r}))\n",
    )


def test_status_is_the_app_s_entry(root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    entry = {"app": "a", "step": "finished", "live": {"color": "blue"}, "served": "blue"}
    status_printing(root, monkeypatch, {"version": 1, "stack": "s", "apps": [entry]})
    assert tool.status("s", "a") == entry


@pytest.mark.parametrize(
    ("data", "says"),
    [
        (
            {"version": 2, "apps": []},
            "status --json printed version 2; this driver reads version 1",
        ),
        ({"version": 1, "apps": []}, "status --json printed 0 entries for a; expected one"),
        ({"version": 1, "apps": [{"app": "a"}, {"app": "a"}]}, "printed 2 entries for a"),
    ],
)
def test_a_status_of_another_shape_is_refused(
    root: Path, monkeypatch: pytest.MonkeyPatch, data: dict[str, Any], says: str
) -> None:
    status_printing(root, monkeypatch, data)
    with pytest.raises(ToolError, match=re.escape(says)):
        tool.status("s", "a")


def test_a_status_that_fails_says_its_last_line(
    root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tool, "outputs", lambda stack: {})
    fake_module(root, "infra.release", "print('error: no app a', file=sys.stderr); sys.exit(2)\n")
    with pytest.raises(
        ToolError,
        match=re.escape("python -m infra.release status --json failed (exit 2): error: no app a"),
    ):
        tool.status("s", "a")

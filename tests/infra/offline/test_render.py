"""infra/offline/render.py: the offline review tool. It writes a render only where that cannot
destroy anything, answers every bad input with one line and exit 2, and writes nothing else."""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from infra.offline import mocks, program, render, stackfile
from infra.offline.render import MARKER, main
from infra.paths import ROOT
from infra.settings import ConfigError

SECRET = "TOPSECRET-4711"


def test_cli_writes_resources_outputs_manifests_and_contexts(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    build = ROOT / ".build"
    before = build.exists() and sorted(build.rglob("*"))
    assert main(["--stack", "imageview", "--out", str(out)]) == 0
    assert "rendered stack imageview" in capsys.readouterr().out
    after = build.exists() and sorted(build.rglob("*"))
    assert before == after, "build contexts are staged under --out, never in the checkout"
    doc = json.loads((out / "resources.json").read_text())
    assert doc["stack"] == "imageview" and doc["project"] == "gke-bluegreen"
    assert doc["config"]["secrets"] == {"imageview": {"id": "[secret]", "key": "[secret]"}}
    assert doc["config"]["apps"]["imageview"]["activeColor"] == "blue"
    assert doc["config"]["platform"] == "gke", "Pulumi.yaml's default, merged as the CLI does"
    types = {r["type"] for r in doc["resources"]}
    assert {
        "gcp:container/cluster:Cluster",
        "kubernetes:apps/v1:Deployment",
        "gke-bluegreen:infra:BlueGreenApp",
    } <= types
    for r in doc["resources"]:
        assert set(r) == {
            "urn",
            "type",
            "name",
            "parent",
            "provider",
            "dependencies",
            "options",
            "inputs",
        }
    files = sorted(p.name for p in (out / "manifests").iterdir())
    assert "deployment-webserver-blue.yaml" in files and "service-webserver.yaml" in files
    assert json.loads((out / "outputs.json").read_text())["kubeconfig"] == "[secret]"
    assert (out / MARKER).is_file()
    contexts = sorted(p.name for p in (out / "build-contexts").iterdir())
    assert contexts == ["imageview-blue", "imageview-green", "smoke"]
    assert (out / "build-contexts/imageview-blue/imageview/blue/Dockerfile").is_file()


@pytest.fixture(scope="module")
def earlier(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One earlier render of dev, copied into each test that needs one."""
    out = tmp_path_factory.mktemp("earlier") / "out"
    assert main(["--stack", "dev", "--out", str(out)]) == 0
    return out


def test_same_config_same_bytes_across_processes(earlier: Path, tmp_path: Path) -> None:
    """This process (the earlier render) and another one (the wire format's key order differs
    between processes)."""
    subprocess.run(
        [
            sys.executable,
            "-m",
            "infra.offline.render",
            "--stack",
            "dev",
            "--out",
            str(tmp_path / "2"),
        ],
        cwd=ROOT,
        check=True,
        capture_output=True,
        timeout=120,
    )
    files = sorted(p.relative_to(earlier) for p in earlier.rglob("*") if p.is_file())
    assert files == sorted(
        p.relative_to(tmp_path / "2") for p in (tmp_path / "2").rglob("*") if p.is_file()
    )
    for file in files:
        assert (earlier / file).read_bytes() == (tmp_path / "2" / file).read_bytes(), file


def _earlier_render(earlier: Path, tmp_path: Path) -> tuple[Path, dict[str, bytes]]:
    out = tmp_path / "out"
    shutil.copytree(earlier, out)
    return out, {str(p): p.read_bytes() for p in out.rglob("*") if p.is_file()}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--set", "apps.kubia.activeColor=red"], 'config apps.kubia.activeColor: "red"'),
        (["--set", "apps.kubia.replicas=-1"], "from 0 to 1000"),
        (["--set", "cluster.zone=mars-1a"], "config cluster.zone"),
        (["--set", "apps.ghost.activeColor=blue"], "config apps.ghost"),
        (["--set", "apps.kubia.activeColor"], "expected PATH=VALUE"),
        (["--set", "apps..x=1"], "--set path"),
        (["--set", f"apps.kubia.replicas={'9' * 5000}"], "config apps.kubia.replicas"),
        (["--set", "cluster.authorizedNetworks[50000000].cidrBlock=1.2.3.0/24"], "out of range"),
        (["--set", "region=asia-northeast1\n"], "control characters"),
        (["--set-secret", "secrets.imageview=x"], "config secrets.imageview: [secret]"),
        (["--set-secret", f"apps.kubia.env.TOKEN={SECRET}"], "config apps: [secret]"),
        (["--set-secret", f"cluster.name={SECRET}"], "config cluster: [secret]"),
        (["--set-secret", f"secrets.kubia.x={SECRET}"], "config secrets.kubia: [secret]"),
        (["--stack", "no/such"], "stack name"),
    ],
)
def test_bad_input_one_line_exit_2_nothing_written(
    earlier: Path,
    tmp_path: Path,
    args: list[str],
    message: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    out, files = _earlier_render(earlier, tmp_path)
    capsys.readouterr()
    started = time.monotonic()
    stack = ["--stack", "dev"] if "--stack" not in args else []
    assert main([*stack, *args, "--out", str(out)]) == 2
    assert time.monotonic() - started < 30, "bounded work"
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("error: "), err
    assert message in err, err
    assert SECRET not in err
    assert {str(p): p.read_bytes() for p in out.rglob("*") if p.is_file()} == files
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"], "no staging folder left behind"


def test_cli_unknown_stack(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--stack", "staging", "--out", str(tmp_path / "o")]) == 2
    assert "stacks are dev, imageview, local, prod" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("out", "message"),
    [
        ("", "--out is empty"),
        ("  ", "--out is empty"),
        (".", "the repository or a folder above it"),
        (str(ROOT), "the repository or a folder above it"),
        (str(ROOT.parent), "the repository or a folder above it"),
        ("/", "the repository or a folder above it"),
        ("docs", "not an earlier render"),
        ("README.md", "is a file"),
        ("README.md/sub", "is a file"),
        ("/proc/gke-bluegreen-render", "cannot write there"),
    ],
)
def test_out_that_would_destroy_work_is_refused(
    out: str, message: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(ROOT)
    tracked = {p: p.stat().st_mtime_ns for p in (ROOT / "docs").iterdir()}
    assert main(["--stack", "dev", "--out", out]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("error: "), err
    assert message in err, err
    assert {p: p.stat().st_mtime_ns for p in (ROOT / "docs").iterdir()} == tracked
    assert (ROOT / "README.md").is_file() and (ROOT / "Pulumi.yaml").is_file()


def test_out_may_be_an_empty_folder_or_an_earlier_render(
    tmp_path: Path, render_stack: Callable[..., program.Render]
) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    render.write(render_stack("local"), empty)
    render.write(render_stack("dev"), empty)
    assert json.loads((empty / "resources.json").read_text())["stack"] == "dev", "replaced"
    with pytest.raises(render.OutError, match="not an earlier render"):
        (empty / MARKER).unlink()
        render.write(render_stack("dev"), empty)


def test_bad_config_registers_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[mocks.RecordingMonitor] = []
    install = mocks.install

    def spy(*args: Any, **kwargs: Any) -> mocks.RecordingMonitor:
        seen.append(install(*args, **kwargs))
        return seen[-1]

    monkeypatch.setattr(mocks, "install", spy)
    config = stackfile.merged("dev", ["apps.kubia.containerPort=80"])
    with pytest.raises(ConfigError, match="containerPort"):
        program.run(config)
    assert seen and seen[0].registered == []


def _project(tmp_path: Path, stack_text: str) -> Path:
    """A copy of the project file with one stack file, for stack-file faults."""
    (tmp_path / "stacks").mkdir()
    (tmp_path / "Pulumi.yaml").write_text((ROOT / "Pulumi.yaml").read_text())
    (tmp_path / "stacks" / "Pulumi.broken.yaml").write_text(stack_text)
    return tmp_path / "Pulumi.yaml"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("config:\n  gke-bluegreen:apps: {\n", "stack file Pulumi.broken.yaml at line"),
        ("- a\n- list\n", "expected a mapping with a config: key"),
        ("config: [1, 2]\n", "config: must be a mapping of keys"),
        (f"config:\n  gke-bluegreen:nodeCount: {'9' * 5000}\n", "stack file Pulumi.broken.yaml"),
        (
            "config:\n  gke-bluegreen:platform: local\n  gke-bluegreen:apps:\n"
            "    imageview:\n      source: apps/imageview/blue\n"
            "      secret: {name: apikey, keys: [id]}\n"
            f"  gke-bluegreen:secrets:\n    imageview:\n      id: {SECRET}\n",
            "config secrets: [secret] is not valid; must be set with --secret",
        ),
    ],
)
def test_stack_file_faults_are_one_line(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    text: str,
    message: str,
) -> None:
    monkeypatch.setattr("infra.paths.PROJECT_FILE", _project(tmp_path, text))
    assert main(["--stack", "broken", "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err, err
    assert SECRET not in err
    assert not (tmp_path / "out").exists()


def test_render_api_without_out_writes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    result = render.render("local")
    assert result.resources and not list(tmp_path.iterdir())
    assert os.environ.get("PULUMI_CONFIG") is None or "gke-bluegreen:apps" not in os.environ.get(
        "PULUMI_CONFIG", ""
    ), "the engine environment is restored after a run"


def test_the_help_explains_every_option_and_the_sequence() -> None:
    parser = render.parser()
    assert parser.description and parser.epilog
    assert parser.description.rstrip().endswith("."), "a whole description"
    options = [a for a in parser._actions if a.option_strings and a.dest != "help"]
    assert [a.dest for a in options] == ["stack", "set", "set_secret", "out"]
    for action in options:
        assert action.help and action.help.strip() and action.help != argparse.SUPPRESS
    # The sequence the epilog shows runs: its modules exist and its make targets are real.
    makefile = (ROOT / "Makefile").read_text()
    modules = re.findall(r"^  python -m ([\w.]+)", parser.epilog, re.MULTILINE)
    targets = re.findall(r"^  make ([\w-]+)", parser.epilog, re.MULTILINE)
    assert modules == ["infra.offline.render", "policy.offline"] and targets == ["scan"]
    assert all(importlib.util.find_spec(m) for m in modules)
    assert all(re.search(rf"^{t}:", makefile, re.MULTILINE) for t in targets)


def test_help_is_printed_and_exits_0(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["--help"])
    assert exit_.value.code == 0
    out = capsys.readouterr().out
    assert render.DESCRIPTION.splitlines()[0] in out and "--set-secret" in out

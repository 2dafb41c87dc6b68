"""infra/offline/stackfile.py: the Pulumi CLI's project defaults, ported from pulumi/pulumi at
1b59498 (pkg/workspace/config.go ``mergeConfig``), stack files and ``--set`` overrides."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from infra.offline import stackfile
from infra.offline.stackfile import StackFileError
from infra.paths import ROOT
from tests.helpers import tool_command


def test_a_bad_set_is_one_stack_file_error() -> None:
    """--set items are read by infra.config.keypath; its errors reach the tools as this module's."""
    with pytest.raises(StackFileError, match="expected PATH=VALUE"):
        stackfile.merged("dev", ["apps.kubia.replicas"])
    with pytest.raises(StackFileError, match="array index 5 out of range"):
        stackfile.merged("dev", ["cluster.authorizedNetworks[5].cidrBlock=10.0.0.0/8"])


def _project(tmp_path: Path, project_config: str, stack: str) -> Path:
    (tmp_path / "stacks").mkdir()
    (tmp_path / "Pulumi.yaml").write_text(
        "name: gke-bluegreen\nruntime: python\nstackConfigDir: stacks\nconfig:\n" + project_config
    )
    (tmp_path / "stacks" / "Pulumi.s.yaml").write_text(stack)
    return tmp_path / "Pulumi.yaml"


def test_project_defaults_fill_what_the_stack_leaves_unset(tmp_path: Path) -> None:
    project = _project(
        tmp_path,
        "  platform:\n    type: string\n    default: gke\n"
        "  kubeContext:\n    type: string\n    default: ''\n",
        "config:\n  gke-bluegreen:kubeContext: minikube\n",
    )
    merged = stackfile.merged("s", path=project)
    assert merged.values == {
        "gke-bluegreen:platform": "gke",
        "gke-bluegreen:kubeContext": "minikube",
    }


def test_stack_files_are_found_through_stack_config_dir(tmp_path: Path) -> None:
    project = _project(tmp_path, "  {}\n", "config: {}\n")
    assert stackfile.stack_names(project) == ["s"]
    assert stackfile.stacks_dir(project) == (tmp_path / "stacks").resolve()


def test_secure_values_make_their_key_secret_and_get_placeholders(tmp_path: Path) -> None:
    project = _project(
        tmp_path,
        "  {}\n",
        "config:\n  gke-bluegreen:apps:\n    iv:\n      secret: {name: k, keys: [id, key]}\n"
        "  gke-bluegreen:secrets:\n    iv:\n      id:\n        secure: AAABAJ0x\n",
    )
    merged = stackfile.merged("s", path=project)
    assert "gke-bluegreen:secrets" in merged.secret_keys
    assert merged.values["gke-bluegreen:secrets"] == {
        "iv": {"id": "placeholder-iv-id", "key": "placeholder-iv-key"}
    }


def test_wire_values_are_json_with_sorted_keys() -> None:
    config = stackfile.StackConfig(
        stack="s", values={"p:a": {"z": 1, "b": [True]}, "p:s": "text"}, secret_keys=frozenset()
    )
    assert config.wire() == {"p:a": '{"b":[true],"z":1}', "p:s": "text"}


def test_config_of_names_every_key_in_full_and_keeps_encrypted_values() -> None:
    document = {
        "encryptionsalt": "v1:x",
        "config": {"apps": {"a": 1}, "gcp:project": "p", "gke-bluegreen:secrets": {"secure": "v"}},
    }
    assert stackfile.config_of(document) == {
        "gke-bluegreen:apps": {"a": 1},
        "gcp:project": "p",
        "gke-bluegreen:secrets": {"secure": "v"},
    }
    assert stackfile.config_of({}) == {}


def test_the_stacks_a_help_text_lists(tmp_path: Path) -> None:
    project = _project(tmp_path, "  {}\n", "config: {}\n")
    assert stackfile.stack_names_shown(project) == "s"
    (tmp_path / "stacks" / "Pulumi.s.yaml").unlink()
    assert stackfile.stack_names_shown(project) == "none yet"
    project.write_text("name: [broken\n")
    assert stackfile.stack_names_shown(project).startswith("none listed: project file")


def _file(tmp_path: Path, data: bytes) -> Path:
    file = tmp_path / "Pulumi.s.yaml"
    file.write_bytes(data)
    return file


@pytest.mark.parametrize(
    ("data", "words"),
    [
        ("config:\n  a: 1\n".encode("utf-16"), "(saved as UTF-16)"),
        ("config:\n  a: 1\n".encode("utf-32"), "(saved as UTF-32)"),
        ("# café\nconfig:\n  a: naïve\n".encode("latin-1"), "(byte 0xe9 on line 1)"),
        ("config:\n  a: naïve\n".encode("latin-1"), "(byte 0xef on line 2)"),
    ],
)
def test_a_file_that_is_not_utf8_is_one_line_naming_where(
    tmp_path: Path, data: bytes, words: str
) -> None:
    with pytest.raises(stackfile.EncodingError) as caught:
        stackfile.read_text(_file(tmp_path, data), "stack file")
    assert (
        str(caught.value) == f"stack file Pulumi.s.yaml is not UTF-8 text {words}; save it as UTF-8"
    )


def test_utf8_with_a_byte_order_mark_is_utf8(tmp_path: Path) -> None:
    file = _file(tmp_path, "\ufeffconfig:\n  a: é\n".encode())
    assert stackfile.parse_yaml(stackfile.read_text(file, "x"), file, "x") == {"config": {"a": "é"}}


@pytest.mark.parametrize(
    ("text", "line", "key", "first"),
    [
        (
            "config:\n  gke-bluegreen:apps: {}\n  b: 2\n  gke-bluegreen:apps: {}\n",
            4,
            "gke-bluegreen:apps",
            2,
        ),
        ("config:\n  apps:\n    kubia:\n      replicas: 1\n      replicas: 2\n", 5, "replicas", 4),
        ("config: {a: 1, b: 2, a: 3}\n", 1, "a", 1),
        ("a:\n  - {x: 1}\n  - {y: 1, y: 2}\n", 3, "y", 3),
    ],
)
def test_a_key_set_twice_is_refused_with_both_lines(
    tmp_path: Path, text: str, line: int, key: str, first: int
) -> None:
    file = _file(tmp_path, text.encode())
    with pytest.raises(StackFileError) as caught:
        stackfile.parse_yaml(text, file, "stack file")
    assert str(caught.value) == (
        f'stack file Pulumi.s.yaml at line {line}: key "{key}" is set twice in one mapping '
        f"(first on line {first}); keep one"
    )


def test_keys_a_merge_brings_in_may_be_overridden_and_equal_keys_in_other_mappings_are_fine(
    tmp_path: Path,
) -> None:
    text = "base: &b {x: 1, y: 2}\nconfig:\n  <<: *b\n  x: 3\nother: {x: 4}\n"
    assert stackfile.parse_yaml(text, _file(tmp_path, text.encode()), "stack file") == {
        "base": {"x": 1, "y": 2},
        "config": {"x": 3, "y": 2},
        "other": {"x": 4},
    }


def test_the_project_file_is_read_by_the_same_rules(tmp_path: Path) -> None:
    project = _project(tmp_path, "  {}\n", "config: {}\n")
    project.write_text("name: gke-bluegreen\nruntime: python\nname: other\n")
    with pytest.raises(StackFileError, match=r'project file Pulumi.yaml at line 3: key "name"'):
        stackfile.project(project)


# ------------------------------------------------------------------ the same line in every tool

#: dev's stack file as committed.
DEV = (ROOT / "stacks/Pulumi.dev.yaml").read_text()
#: kubia's replicas, then the same key again right below it.
_REPLICAS = "      replicas: 3\n"
DUPLICATED = DEV.replace(_REPLICAS, _REPLICAS + "      replicas: 4\n", 1)
_DUP_LINE = DEV[: DEV.index(_REPLICAS)].count("\n") + 2

BROKEN = {
    "utf-16": (
        DEV.encode("utf-16"),
        "stack file Pulumi.dev.yaml is not UTF-8 text (saved as UTF-16); save it as UTF-8",
    ),
    "duplicate key": (
        DUPLICATED.encode(),
        f'stack file Pulumi.dev.yaml at line {_DUP_LINE}: key "replicas" is set twice in one '
        f"mapping (first on line {_DUP_LINE - 1}); keep one",
    ),
}

#: Each tool that reads the stack file, as a user runs it; the release tool twice: `status` reads
#: it as the program does, `promote` with its round-trip editor (infra/release/document.py).
TOOLS = {
    "render": ("infra.offline.render", "--stack", "dev", "--out", "{out}"),
    "doctor": ("infra.doctor", "--stack", "dev"),
    "release status": ("infra.release", "status", "--stack", "dev"),
    "release promote": ("infra.release", "promote", "--stack", "dev", "--app", "kubia"),
}


@pytest.mark.parametrize("broken", BROKEN)
@pytest.mark.parametrize("tool", TOOLS)
def test_every_tool_refuses_a_broken_stack_file_with_the_same_line(
    tmp_path: Path, tool: str, broken: str
) -> None:
    data, line = BROKEN[broken]
    (tmp_path / "stacks").mkdir()
    shutil.copy(ROOT / "Pulumi.yaml", tmp_path / "Pulumi.yaml")
    (tmp_path / "stacks/Pulumi.dev.yaml").write_bytes(data)
    (tmp_path / "bin").mkdir()  # an empty PATH: the doctor finds no Pulumi CLI, no Docker
    module, *args = (a.replace("{out}", str(tmp_path / "out")) for a in TOOLS[tool])
    result = subprocess.run(
        tool_command(tmp_path / "Pulumi.yaml", module, *args),
        cwd=ROOT,
        env={**os.environ, "PATH": str(tmp_path / "bin"), "HOME": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert "Traceback" not in result.stderr, result.stderr
    if tool == "doctor":
        assert (result.returncode, result.stderr) == (1, ""), result.stderr
        lines = [x for x in result.stdout.splitlines() if line in x]
        assert len(lines) == 1 and lines[0].startswith("MISSING"), result.stdout
    else:
        assert (result.returncode, result.stdout) == (2, ""), result.stdout + result.stderr
        assert result.stderr == f"error: {line}\n"
    assert not (tmp_path / "out").exists()
    assert (tmp_path / "stacks/Pulumi.dev.yaml").read_bytes() == data, "left as it was"

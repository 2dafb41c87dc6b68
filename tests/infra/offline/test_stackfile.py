"""infra/offline/stackfile.py: the Pulumi CLI's project defaults, ported from pulumi/pulumi at
1b59498 (pkg/workspace/config.go ``mergeConfig``), stack files and ``--set`` overrides."""

from __future__ import annotations

from pathlib import Path

import pytest

from infra.offline import stackfile
from infra.offline.stackfile import StackFileError


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

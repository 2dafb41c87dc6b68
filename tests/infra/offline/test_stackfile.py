"""infra/offline/stackfile.py: the Pulumi CLI's rules for --path values, list indices and project
defaults, ported from pulumi/pulumi at 1b59498 (sdk/go/common/resource/config/object.go ``coerce``
and ``object.Set``; pkg/workspace/config.go ``mergeConfig``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from infra.offline import stackfile
from infra.offline.stackfile import StackFileError, coerce, parse_path, set_path


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("apps.kubia.activeColor", ("gke-bluegreen:apps", ["kubia", "activeColor"])),
        (
            'apps.iv.configMaps.projectid["project.id"]',
            ("gke-bluegreen:apps", ["iv", "configMaps", "projectid", "project.id"]),
        ),
        (
            "cluster.authorizedNetworks[0].cidrBlock",
            ("gke-bluegreen:cluster", ["authorizedNetworks", 0, "cidrBlock"]),
        ),
        ("gcp:project", ("gcp:project", [])),
    ],
)
def test_paths_parse_like_the_cli(path: str, expected: tuple[str, list[object]]) -> None:
    assert parse_path(path) == expected


@pytest.mark.parametrize("path", ["apps..x", ".apps", "[0]", "apps[x]", 'apps["x'])
def test_bad_paths(path: str) -> None:
    with pytest.raises(StackFileError, match="--set path"):
        parse_path(path)


# object.go coerce: "true"/"false" → bool; more than one character starting with "0" → text;
# ParseInt(v, 10, 64) or ParseUint(v, 10, 64) → number; anything else → text.
@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("true", True),
        ("false", False),
        ("True", "True"),
        ("12345", 12345),
        ("-5", -5),
        ("+5", 5),
        ("0", 0),
        ("0123456", "0123456"),
        ("18446744073709551615", 18446744073709551615),
        ("18446744073709551616", "18446744073709551616"),
        ("9" * 5000, "9" * 5000),
        ("1e3", "1e3"),
        ("0x50", "0x50"),
        ("8080.0", "8080.0"),
        (" 80", " 80"),
    ],
)
def test_values_are_typed_like_the_cli(text: str, value: object) -> None:
    assert coerce(text) == value
    assert type(coerce(text)) is type(value)


def test_a_list_index_may_only_append() -> None:
    """object.Set: ``index < 0 || index > len(v)`` is "array index out of range"."""
    assert set_path(None, [0, "cidrBlock"], "x", "p") == [{"cidrBlock": "x"}]
    assert set_path([{"a": 1}], [1], "y", "p") == [{"a": 1}, "y"]
    with pytest.raises(StackFileError, match="array index 2 out of range"):
        set_path([{"a": 1}], [2], "y", "p")
    with pytest.raises(StackFileError, match="out of range"):
        set_path(None, [50_000_000], "y", "p")


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

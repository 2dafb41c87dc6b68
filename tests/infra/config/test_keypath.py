"""infra/config/keypath.py: the Pulumi CLI's rules for --path values and list indices, ported
from pulumi/pulumi at 1b59498 (sdk/go/common/resource/config/object.go ``coerce`` and
``object.Set``), on plain containers and on the release tool's round-trip YAML tree."""

from __future__ import annotations

import io

import pytest
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap

from infra.config.keypath import KeyPathError, assignment, coerce, parse_path, set_path


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
    with pytest.raises(KeyPathError, match="--set path"):
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
    with pytest.raises(KeyPathError, match="array index 2 out of range"):
        set_path([{"a": 1}], [2], "y", "p")
    with pytest.raises(KeyPathError, match="out of range"):
        set_path(None, [50_000_000], "y", "p")


def test_a_huge_index_is_out_of_range_not_a_bad_path() -> None:
    """An index of 12 digits is read as one and refused as out of range, like the CLI does."""
    _key, segments = parse_path("apps.kubia.replicas[999999999999]")
    with pytest.raises(KeyPathError, match="array index 999999999999 out of range"):
        set_path(None, segments, 1, "apps.kubia.replicas[999999999999]=1")


@pytest.mark.parametrize(
    ("item", "expected"),
    [
        (
            "apps.kubia.replicas=3",
            ("apps.kubia.replicas", "gke-bluegreen:apps", ["kubia", "replicas"], 3),
        ),
        ("region=a=b", ("region", "gke-bluegreen:region", [], "a=b")),
    ],
)
def test_an_assignment_is_path_then_typed_value(item: str, expected: tuple[object, ...]) -> None:
    assert assignment(item) == expected


@pytest.mark.parametrize(
    ("item", "words"), [("apps.kubia", "expected PATH=VALUE"), ("[0]=1", "--set path")]
)
def test_a_bad_assignment_is_one_line(item: str, words: str) -> None:
    with pytest.raises(KeyPathError, match=words) as caught:
        assignment(item)
    assert "\n" not in str(caught.value)


def test_a_round_trip_tree_is_edited_in_place_and_keeps_its_comments() -> None:
    yaml = YAML()
    document = yaml.load("apps:  # the apps\n  kubia:\n    replicas: 1  # one pod\n    nets: [a]\n")
    apps = document["apps"]
    assert set_path(apps, ["kubia", "env", "V"], "2", "p", CommentedMap) is apps
    set_path(apps, ["kubia", "nets", 1], "b", "p", CommentedMap)
    assert isinstance(apps["kubia"]["env"], CommentedMap)
    out = io.StringIO()
    yaml.dump(document, out)
    assert out.getvalue().splitlines() == [
        "apps:  # the apps",
        "  kubia:",
        "    replicas: 1  # one pod",
        "    nets: [a, b]",
        "    env:",
        "      V: '2'",
    ]

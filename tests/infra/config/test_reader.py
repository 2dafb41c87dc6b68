"""infra/config/reader.py: converters match whole values (no trailing newline), refuse control
characters, and bound what they parse."""

from __future__ import annotations

import re

import pytest

from infra.config import reader
from infra.settings import ConfigError


@pytest.mark.parametrize("value", ["x\n", "x\r", "a\x00b", "tab\there", "\x1b[31mred", "\x85"])
def test_strings_refuse_control_characters(value: str) -> None:
    with pytest.raises(ConfigError, match="control characters"):
        reader.string("k", value)


def test_text_allows_lines_and_tabs_but_no_other_controls() -> None:
    assert reader.text("k", "a\n\tb") == "a\n\tb"
    with pytest.raises(ConfigError, match="other than tab, newline"):
        reader.text("k", "bell\x07")


def test_patterns_match_the_whole_value() -> None:
    conv = reader.match(re.compile(r"[a-z]+"), "letters")
    assert conv("k", "abc") == "abc"
    for bad in ("abc1", "1abc", "abc "):
        with pytest.raises(ConfigError, match="letters"):
            conv("k", bad)


@pytest.mark.parametrize(
    "value", [True, "1e3", "0x50", " 80", "80 ", "8080.0", "9" * 19, float("inf"), None, [1]]
)
def test_whole_numbers(value: object) -> None:
    with pytest.raises(ConfigError, match="whole number from 1 to 65535"):
        reader.int_in(1, 65535)("k", value)


def test_whole_numbers_given_as_text_or_float() -> None:
    assert reader.int_in(1, 65535)("k", "8080") == 8080
    assert reader.int_in(1, 65535)("k", 8080.0) == 8080


def test_unknown_keys_are_named() -> None:
    node = reader.Node("apps.x", {"replicas": 1, "replica": 2})
    node.get("replicas", reader.int_in(0, 9), 1)
    with pytest.raises(ConfigError, match=r"config apps.x.replica: 2 is not valid; unknown key"):
        node.done()


def test_a_node_must_be_an_object() -> None:
    with pytest.raises(ConfigError, match="expected an object"):
        reader.Node("cluster", "n1-standard-1")

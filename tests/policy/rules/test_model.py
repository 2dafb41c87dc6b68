"""What the rules share (policy/rules/model.py): the engine's config as a Context, a Rule's
messages, and reading inputs."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from policy.rules.model import Context, Level, Options, Rule, dig, items, parse_config


def test_parse_config_from_engine_env() -> None:
    env = {
        "gke-bluegreen:registry": '{"publicRead":true}',
        "gke-bluegreen:platform": "gke",
        "gcp:project": "p",
        "gke-bluegreen:bad": "{not json",
    }
    cfg = parse_config(env)
    assert cfg == {
        "registry": {"publicRead": True},
        "platform": "gke",
        "gcp:project": "p",
        "bad": "{not json",
    }
    ctx = Context(stack="dev", config=cfg)
    assert ctx.flag("registry.publicRead") and not ctx.flag("registry.missing")
    assert ctx.get("platform.x", "d") == "d"


def test_only_the_prod_stack_is_prod() -> None:
    assert Context(stack="prod", config={}).is_prod
    assert not Context(stack="production", config={}).is_prod


def test_a_rule_reports_its_input_and_option_checks_together() -> None:
    def inputs_check(rtype: str, inputs: Mapping[str, Any], ctx: Context) -> list[str]:
        return [f"{rtype} input"]

    def options_check(rtype: str, options: Options, ctx: Context) -> list[str]:
        return [f"protect={options.protect}"]

    rule = Rule(
        name="r",
        description="d",
        level=Level.ADVISORY,
        check=inputs_check,
        options_check=options_check,
    )
    ctx = Context(stack="dev", config={})
    assert rule.resource_messages("t", {}, Options(protect=False), ctx) == [
        "t input",
        "protect=False",
    ]
    assert (
        Rule(name="none", description="d", level=Level.ADVISORY).resource_messages(
            "t", {}, Options(), ctx
        )
        == []
    )


def test_reading_inputs_tolerates_missing_and_odd_shapes() -> None:
    node = {"a": {"b": [1, 2]}, "s": "text"}
    assert dig(node, "a", "b") == [1, 2]
    assert dig(node, "a", "x", "y") is None
    assert dig(node, "s", "x") is None  # a string is not a mapping
    assert items(dig(node, "a", "b")) == [1, 2]
    assert items("text") == [] and items(None) == [] and items({"k": 1}) == []

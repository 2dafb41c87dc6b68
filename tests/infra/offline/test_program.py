"""infra/offline/program.py: the harness runs the program with the environment the language host
sets, restores it afterwards, stages build contexts where it is told, and records registrations
with their options."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pulumi
import pytest

from infra.build_context import STAGING_ENV
from infra.offline import program, stackfile


def test_the_program_sees_the_engine_environment_and_it_is_restored(tmp_path: Path) -> None:
    config = stackfile.StackConfig(
        stack="s", values={"gke-bluegreen:x": {"b": 1}}, secret_keys=frozenset({"gke-bluegreen:x"})
    )
    seen: dict[str, object] = {}

    def body() -> None:
        seen["config"] = json.loads(os.environ["PULUMI_CONFIG"])
        seen["secret"] = json.loads(os.environ["PULUMI_CONFIG_SECRET_KEYS"])
        seen["staging"] = os.environ[STAGING_ENV]
        seen["stack"] = pulumi.get_stack()

    before = {k: os.environ.get(k) for k in ("PULUMI_CONFIG", STAGING_ENV)}
    program.run(config, program=body, staging=tmp_path)
    assert seen == {
        "config": {"gke-bluegreen:x": '{"b":1}'},
        "secret": ["gke-bluegreen:x"],
        "staging": str(tmp_path),
        "stack": "s",
    }
    assert {k: os.environ.get(k) for k in ("PULUMI_CONFIG", STAGING_ENV)} == before


def test_an_error_in_the_program_still_restores_the_environment() -> None:
    config = stackfile.StackConfig(stack="s", values={}, secret_keys=frozenset())

    def body() -> None:
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        program.run(config, program=body)
    assert "PULUMI_CONFIG" not in os.environ


def test_resource_options_are_recorded() -> None:
    config = stackfile.StackConfig(stack="s", values={}, secret_keys=frozenset())

    def body() -> None:
        pulumi.CustomResource(
            "test:index:Thing",
            "kept",
            None,
            pulumi.ResourceOptions(protect=True, retain_on_delete=True),
        )

    (thing,) = program.run(config, program=body).resources
    assert (thing.name, thing.protect, thing.retain_on_delete) == ("kept", True, True)

"""The Pulumi CLI's pre-run checks (infra/offline/cli_rules.py, ported from pulumi/pulumi at
1b59498) applied to Pulumi.yaml and every stack file, and shown to fail, with the CLI's own words,
on broken examples: among them a config block whose structured keys have neither a type nor a
default, which stops `pulumi up` before the program runs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from infra.offline import cli_rules, stackfile
from infra.offline.stackfile import StackFileError
from infra.paths import PROJECT_FILE

PROJECT = yaml.safe_load(PROJECT_FILE.read_text())

#: A config block whose structured keys have no type and no default: the CLI requires them in
#: every stack.
UNDEFAULTED = {
    "platform": {"type": "string", "default": "gke"},
    "project": {"type": "string"},
    "region": {"type": "string"},
    "kubeContext": {"type": "string"},
    "cluster": {"description": "GKE cluster and node pool"},
    "registry": {"description": "Image registry"},
    "apps": {"description": "Blue/green apps by name"},
    "secrets": {"description": "Secret values of each app's Secret"},
}


def test_the_project_file_passes() -> None:
    assert cli_rules.project_problems(PROJECT) == []


@pytest.mark.parametrize("stack", stackfile.stack_names())
def test_every_stack_passes_the_merge(stack: str) -> None:
    """What `pulumi up --stack <stack>` checks before it starts the program."""
    merged = stackfile.merged(stack)
    declared = {cli_rules.full_key("gke-bluegreen", k) for k in PROJECT["config"]}
    assert declared <= set(merged.values) | set(merged.secret_keys)


def _stack_values(stack: str) -> tuple[dict[str, Any], set[str]]:
    document = stackfile.stack_document(stack)
    values = {stackfile.full_key(k): v for k, v in (document.get("config") or {}).items()}
    secure = {k for k, v in values.items() if stackfile.has_secure(v)}
    return values, secure


@pytest.mark.parametrize(
    ("stack", "message"),
    [
        ("dev", "Stack 'dev' is missing configuration values 'kubeContext' and 'secrets'"),
        (
            "local",
            "Stack 'local' is missing configuration values 'cluster', 'kubeContext', 'project', "
            "'region', 'registry' and 'secrets'",
        ),
    ],
)
def test_structured_keys_without_defaults_stop_the_cli(stack: str, message: str) -> None:
    values, secure = _stack_values(stack)
    undefaulted = {**PROJECT, "config": UNDEFAULTED}
    with pytest.raises(cli_rules.CliRuleError) as caught:
        cli_rules.check_merge(stack, undefaulted, values, secure)
    assert str(caught.value) == message


@pytest.mark.parametrize(
    ("config", "stack_values", "secure", "message"),
    [
        (
            {"region": {"type": "string"}},
            {},
            set(),
            "Stack 's' is missing configuration value 'region'",
        ),
        (
            {"platform": {"type": "string", "default": "gke"}},
            {"gke-bluegreen:platform": ["gke"]},
            set(),
            "Stack 's' with configuration key 'platform' must be of type 'string'",
        ),
        (
            {"apps": {"type": "object"}},
            {"gke-bluegreen:apps": "kubia"},
            set(),
            "Stack 's' with configuration key 'apps' must be of type 'object'",
        ),
        (
            {"replicas": {"type": "integer"}},
            {"gke-bluegreen:replicas": "three"},
            set(),
            "Stack 's' with configuration key 'replicas' must be of type 'integer'",
        ),
        (
            {"zones": {"type": "array", "items": {"type": "string"}}},
            {"gke-bluegreen:zones": ["a", 1]},
            set(),
            "Stack 's' with configuration key 'zones' must be of type 'array<string>'",
        ),
        (
            {"token": {"type": "string", "secret": True}},
            {"gke-bluegreen:token": "plaintext"},
            set(),
            "Stack 's' with configuration key 'token' must be encrypted as it's secret",
        ),
        (
            {"token": {"type": "string", "secret": True, "default": "x"}},
            {},
            set(),
            "Stack 's' with configuration key 'token' must be encrypted as it's secret",
        ),
    ],
)
def test_merge_rules_fail_like_the_cli(
    config: dict[str, Any], stack_values: dict[str, Any], secure: set[str], message: str
) -> None:
    project = {"name": "gke-bluegreen", "config": config}
    with pytest.raises(cli_rules.CliRuleError) as caught:
        cli_rules.check_merge("s", project, stack_values, secure)
    assert str(caught.value) == message


def test_merge_rules_accept_what_the_cli_accepts() -> None:
    project = {
        "name": "gke-bluegreen",
        "config": {
            "replicas": {"type": "integer", "default": 1},
            "spot": {"type": "boolean"},
            "token": {"type": "string", "secret": True},
            "aws:region": {"value": "us-west-2"},
            "other": {"description": "untyped: any value"},
        },
    }
    values = {
        "gke-bluegreen:spot": "true",
        "gke-bluegreen:other": [1, {"a": 2}],
    }
    merged = cli_rules.check_merge("s", project, values, {"gke-bluegreen:token"})
    assert merged["gke-bluegreen:replicas"] == 1
    assert merged["aws:region"] == "us-west-2"
    assert cli_rules.valid_value("integer", None, "3") and cli_rules.valid_value(
        "integer", None, 3.0
    )


@pytest.mark.parametrize(
    ("project", "message"),
    [
        ({"runtime": "python"}, "project is missing a 'name' attribute"),
        ({"name": ""}, "project is missing a non-empty string 'name' attribute"),
        ({"name": "gke bluegreen"}, "project names may only contain alphanumerics"),
        ({"name": "p", "stackConfigDir": ["stacks"]}, "stackConfigDir: expected string or null"),
        (
            {"name": "p", "config": {"a": {"default": 1, "value": 2}}},
            "project config 'a' cannot have both a 'default' and 'value' attribute",
        ),
        (
            {"name": "p", "config": {"a": {"type": "array"}}},
            "The configuration key 'a' declares an array but does not specify the underlying "
            "type via the 'items' attribute",
        ),
        (
            {"name": "p", "config": {"a": {"type": "integer", "default": "x"}}},
            "The default value specified for configuration key 'a' is not of the expected type "
            "'integer'",
        ),
        (
            {"name": "p", "config": {"gcp:project": {"type": "string"}}},
            "Configuration key 'gcp:project' is not namespaced by the project and should not "
            "define a type",
        ),
        (
            {"name": "p", "config": {"gcp:project": {"description": "x"}}},
            "Configuration key 'gcp:project' is namespaced and must provide an attribute 'value'",
        ),
        (
            {"name": "p", "config": {"a": {"type": "map"}}},
            'config.a.type: value must be one of "string", "integer"',
        ),
        (
            {"name": "p", "config": {"a": {"typ": "string"}}},
            "additionalProperties 'typ' not allowed",
        ),
    ],
)
def test_project_file_rules(project: dict[str, Any], message: str) -> None:
    problems = cli_rules.project_problems(project)
    assert problems and message in problems[0], problems


def test_a_render_stops_where_the_cli_stops(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "stacks").mkdir()
    project = {**PROJECT, "config": UNDEFAULTED}
    (tmp_path / "Pulumi.yaml").write_text(yaml.safe_dump(project))
    (tmp_path / "stacks" / "Pulumi.dev.yaml").write_text(stackfile.stack_file("dev").read_text())
    monkeypatch.setattr("infra.paths.PROJECT_FILE", tmp_path / "Pulumi.yaml")
    with pytest.raises(StackFileError, match="Stack 'dev' is missing configuration values"):
        stackfile.merged("dev")

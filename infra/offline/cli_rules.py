"""The checks the Pulumi CLI makes on Pulumi.yaml and a stack's config before it starts the program,
ported from pulumi/pulumi at 1b59498 (docs/upstream.md, C1 and C2). Messages are the CLI's own,
word for word; each function names the upstream function it ports.

* The project file: ``sdk/go/common/workspace/project.json`` (the schema, for the keys this project
  uses), ``project.go`` ``Project.Validate`` and ``tokens.ValidateProjectName``.
* The merge: ``pkg/workspace/config.go`` ``mergeConfig`` and ``validateStackConfigValue``, with
  ``project.go`` ``ValidateConfigValue`` for what "has that type" means.

The offline render and ``infra.doctor`` apply these through :mod:`infra.offline.stackfile`, so what
passes offline passes the CLI's pre-run checks, and what fails fails with the CLI's message.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from typing import Any

_NAME = re.compile(r"[A-Za-z0-9_.-]+")
_SIMPLE_TYPES = ("string", "integer", "boolean", "array", "object")
_TYPE_DECLARATION_KEYS = {"type", "items", "description", "secret", "default", "value"}
#: Top-level keys of project.json's schema and the JSON types it allows for the ones we use.
_PROJECT_KEYS: dict[str, tuple[type, ...]] = {
    "name": (str,),
    "description": (str, type(None)),
    "author": (str, type(None)),
    "website": (str, type(None)),
    "license": (str, type(None)),
    "main": (str, type(None)),
    "stackConfigDir": (str, type(None)),
    "runtime": (str, dict),
    "config": (dict, str, type(None)),
    "backend": (dict, type(None)),
    "options": (dict, type(None)),
    "template": (dict, type(None)),
    "packages": (dict,),
    "plugins": (dict,),
}


class CliRuleError(Exception):
    """The CLI would stop before running the program; the message is the CLI's."""


def project_problems(project: Mapping[str, Any]) -> list[str]:
    """What ``pulumi`` would refuse in Pulumi.yaml (the schema's rules for the keys used here, and
    ``Project.Validate``), in the CLI's words."""
    problems: list[str] = []
    name = project.get("name")
    if "name" not in project:
        problems.append("project is missing a 'name' attribute")
    elif not isinstance(name, str) or not name:
        problems.append("project is missing a non-empty string 'name' attribute")
    elif len(name) > 100:
        problems.append("project names are limited to 100 characters")
    elif not _NAME.fullmatch(name):
        problems.append(
            "project names may only contain alphanumerics, hyphens, underscores, and periods"
        )
    for key, allowed in _PROJECT_KEYS.items():
        if key in project and not isinstance(project[key], allowed):
            problems.append(f"{key}: expected {' or '.join(_json_type(t) for t in allowed)}")
    runtime = project.get("runtime")
    if isinstance(runtime, dict):
        extra = set(runtime) - {"name", "options"}
        if extra or not isinstance(runtime.get("name"), str) or not runtime.get("name"):
            problems.append("runtime: expected a name and optional options")
        elif "options" in runtime and not isinstance(runtime["options"], dict):
            problems.append("runtime.options: expected object")
    config = project.get("config")
    if isinstance(config, dict) and isinstance(name, str):
        for key, declaration in config.items():
            problems.extend(_declaration_problems(name, str(key), declaration))
    return problems


def _declaration_problems(project: str, key: str, declaration: Any) -> list[str]:
    if not isinstance(declaration, dict):
        # Shorthand values (project.go RewriteShorthandConfigValues): a default or a value.
        if isinstance(declaration, str | int | bool | list):
            return []
        return [f"config.{key}: expected a string, integer, boolean, array or type declaration"]
    problems = [
        f"config.{key}: additionalProperties '{extra}' not allowed"
        for extra in sorted(set(declaration) - _TYPE_DECLARATION_KEYS)
    ]
    type_name = declaration.get("type")
    if "type" in declaration and type_name not in _SIMPLE_TYPES:
        allowed = ", ".join(f'"{t}"' for t in _SIMPLE_TYPES)
        problems.append(f"config.{key}.type: value must be one of {allowed}")
    if "secret" in declaration and not isinstance(declaration["secret"], bool):
        problems.append(f"config.{key}.secret: expected boolean")
    if "description" in declaration and not isinstance(declaration["description"], str):
        problems.append(f"config.{key}.description: expected string")
    if declaration.get("default") is not None and declaration.get("value") is not None:
        problems.append(
            f"project config '{key}' cannot have both a 'default' and 'value' attribute"
        )
    if namespaced_by_project(project, key):
        if type_name == "array" and declaration.get("items") is None:
            problems.append(
                f"The configuration key '{key}' declares an array but does not specify the "
                "underlying type via the 'items' attribute"
            )
        default = declaration.get("default")
        if (
            isinstance(type_name, str)
            and default is not None
            and not valid_value(type_name, declaration.get("items"), default)
        ):
            problems.append(
                f"The default value specified for configuration key '{key}' is not of the "
                f"expected type '{full_type_name(type_name, declaration.get('items'))}'"
            )
    elif "type" in declaration:
        problems.append(
            f"Configuration key '{key}' is not namespaced by the project and should not "
            "define a type"
        )
    elif declaration.get("default") is not None:
        problems.append(
            f"Configuration key '{key}' is not namespaced by the project and should not "
            "define a default value. Did you mean to use the 'value' attribute instead of "
            "'default'?"
        )
    elif declaration.get("value") is None:
        problems.append(
            f"Configuration key '{key}' is namespaced and must provide an attribute 'value'"
        )
    return problems


def namespaced_by_project(project: str, key: str) -> bool:
    """project.go ``configKeyIsNamespacedByProject``."""
    return ":" not in key or key.startswith(f"{project}:")


def full_key(project: str, key: str) -> str:
    """config.go ``parseConfigKey``: a key without a namespace belongs to the project."""
    return key if ":" in key else f"{project}:{key}"


def full_type_name(type_name: str, items: Any) -> str:
    """project.go ``InferFullTypeName``: ``array<string>``."""
    if isinstance(items, dict):
        return f"array<{full_type_name(str(items.get('type')), items.get('items'))}>"
    return type_name


def _is_integer(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return True
    if isinstance(value, float):
        return value.is_integer()
    return isinstance(value, str) and re.fullmatch(r"[+-]?[0-9]{1,19}", value) is not None


#: project.go ``ValidateConfigValue``'s checks of the types that are not arrays.
_SCALAR_CHECKS: dict[str, Callable[[Any], bool]] = {
    "string": lambda value: isinstance(value, str),
    "integer": _is_integer,
    "boolean": lambda value: isinstance(value, bool) or value in ("true", "false"),
    "object": lambda value: isinstance(value, dict),
}


def valid_value(type_name: str, items: Any, value: Any) -> bool:
    """project.go ``ValidateConfigValue``."""
    check = _SCALAR_CHECKS.get(type_name)
    if check is not None:
        return check(value)
    if not isinstance(value, list) or not isinstance(items, dict):
        return False
    return all(valid_value(str(items.get("type")), items.get("items"), v) for v in value)


def _json_type(t: type) -> str:
    return {str: "string", dict: "object", list: "array", type(None): "null"}.get(t, t.__name__)


def stack_value_content(value: Any) -> Any:
    """What ``validateStackConfigValue`` type-checks: an object or list as decoded JSON, any other
    value as the text the CLI stores it as (``3`` is ``"3"``, ``true`` is ``"true"``)."""
    if isinstance(value, dict | list):
        return json.loads(json.dumps(value))
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def check_merge(
    stack: str,
    project: Mapping[str, Any],
    values: Mapping[str, Any],
    secure: frozenset[str] | set[str],
) -> dict[str, Any]:
    """mergeConfig with validation: ``values`` (the stack's config by full key) with the
    project's defaults and values applied, or :class:`CliRuleError` with the CLI's message.

    ``secure`` names the keys whose stack value is (or holds) an encrypted ``secure:`` value.
    """
    name = str(project.get("name"))
    declared = project.get("config") or {}
    merged = dict(values)
    missing: list[str] = []
    for key in sorted(declared):
        declaration = declared[key]
        if not isinstance(declaration, dict):
            declaration = (
                {"default": declaration}
                if namespaced_by_project(name, key)
                else {"value": declaration}
            )
        full = full_key(name, key)
        found = full in values or full in secure
        has_default = declaration.get("default") is not None
        has_value = declaration.get("value") is not None
        if not found and not has_value and not has_default and namespaced_by_project(name, key):
            missing.append(key)
            continue
        if not found and (has_value or has_default):
            merged[full] = declaration["default"] if has_default else declaration["value"]
    if missing:
        noun = "value" if len(missing) == 1 else "values"
        raise CliRuleError(f"Stack '{stack}' is missing configuration {noun} {_listed(missing)}")
    for key in sorted(declared):
        declaration = declared[key]
        if not isinstance(declaration, dict) or "type" not in declaration:
            continue
        full = full_key(name, key)
        if declaration.get("secret") and full not in secure:
            raise CliRuleError(
                f"Stack '{stack}' with configuration key '{key}' must be encrypted as it's secret"
            )
        if full in merged and not valid_value(
            str(declaration["type"]), declaration.get("items"), stack_value_content(merged[full])
        ):
            raise CliRuleError(
                f"Stack '{stack}' with configuration key '{key}' must be of type "
                f"'{full_type_name(str(declaration['type']), declaration.get('items'))}'"
            )
    return merged


def _listed(keys: list[str]) -> str:
    """config.go ``formatMissingKeys``: 'a', 'a' and 'b', 'a', 'b' and 'c'."""
    if len(keys) == 1:
        return f"'{keys[0]}'"
    ordered = sorted(keys)
    return ", ".join(f"'{k}'" for k in ordered[:-1]) + f" and '{ordered[-1]}'"

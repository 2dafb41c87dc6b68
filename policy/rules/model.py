"""What every rule is made of: the stack a rule judges (:class:`Context`), the resource options it
may read (:class:`Options`), its level, the :class:`Rule` record the table holds, and the helpers
that read a resource's inputs."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

PROJECT = "gke-bluegreen"
"""Pulumi project name; its config keys are ``gke-bluegreen:<key>``."""

PROD_STACK = "prod"
"""The stack where public registry read is never allowed and deletion protection is required."""

CLUSTER = "gcp:container/cluster:Cluster"
REPOSITORY = "gcp:artifactregistry/repository:Repository"


class Level(StrEnum):
    """How a violation is enforced (the CrossGuard enforcement level of the same name)."""

    MANDATORY = "mandatory"
    """Blocks `pulumi preview`/`up` and fails the offline check."""
    ADVISORY = "advisory"
    """Printed as a warning; never blocks."""


@dataclass(frozen=True, kw_only=True)
class Context:
    """What a rule may know beyond the resource itself."""

    stack: str
    """Stack name, e.g. ``prod``."""
    config: Mapping[str, Any]
    """The stack's config: keys without the ``gke-bluegreen:`` prefix, structured values parsed."""

    @property
    def is_prod(self) -> bool:
        """True for the production stack."""
        return self.stack == PROD_STACK

    def get(self, path: str, default: Any = None) -> Any:
        """The config value at a dotted path (``registry.publicRead``), or ``default``."""
        node: Any = self.config
        for part in path.split("."):
            if not isinstance(node, Mapping) or part not in node:
                return default
            node = node[part]
        return node

    def flag(self, path: str) -> bool:
        """A boolean config value; the string ``true`` (plain `pulumi config set`) counts."""
        value = self.get(path)
        return value is True or (isinstance(value, str) and value.strip().lower() == "true")


@dataclass(frozen=True, kw_only=True)
class Options:
    """The resource options a rule may read; ``None`` where the caller cannot see one."""

    protect: bool | None = None
    """Pulumi refuses to delete or replace the resource (``protect``)."""
    retain_on_delete: bool | None = None
    """Deleting the resource only drops it from the state; the cloud object stays
    (``retainOnDelete``). A CrossGuard pack never sees it (pulumi/pulumi
    proto/pulumi/analyzer.proto at 1b59498), so only the offline runner, which reads the render's
    ``options``, checks it."""


@dataclass(frozen=True, kw_only=True)
class Resource:
    """One resource of the stack, for a rule that relates resources to each other."""

    type: str
    """Its Pulumi type token."""
    urn: str
    """Its URN (what a finding names)."""
    inputs: Mapping[str, Any]
    """Its camelCase inputs."""


ResourceCheck = Callable[[str, Mapping[str, Any], Context], list[str]]
OptionsCheck = Callable[[str, Options, Context], list[str]]
StackCheck = Callable[[Context], list[str]]
#: Over every resource of the stack at once: ``(urn of the resource at fault, message)`` each.
ResourcesCheck = Callable[[Sequence[Resource], Context], list[tuple[str, str]]]


@dataclass(frozen=True, kw_only=True)
class Rule:
    """One policy: a name (the CrossGuard policy name), its level and its checks."""

    name: str
    """Kebab-case id, shown in every message and used as the CrossGuard policy name."""
    description: str
    """One sentence: what the rule requires."""
    level: Level
    """Mandatory or advisory; docs/delivery.md says why each one is what it is."""
    check: ResourceCheck | None = None
    """Per-resource check of the inputs."""
    options_check: OptionsCheck | None = None
    """Per-resource check of the resource options."""
    stack_check: StackCheck | None = None
    """Optional check of the stack config alone."""
    resources_check: ResourcesCheck | None = None
    """Optional check over every resource of the stack together (what one resource needs of
    another); CrossGuard runs it as a stack policy."""

    def resource_messages(
        self, resource_type: str, inputs: Mapping[str, Any], options: Options, ctx: Context
    ) -> list[str]:
        """Every message of this rule's per-resource checks on one resource."""
        out = self.check(resource_type, inputs, ctx) if self.check else []
        if self.options_check:
            out += self.options_check(resource_type, options, ctx)
        return out


def parse_config(config_env: Mapping[str, str], project: str = PROJECT) -> dict[str, Any]:
    """Stack config as the engine hands it to a policy pack (``PULUMI_CONFIG``), for a Context.

    Keys are ``<project>:<key>``; structured values arrive as JSON text. Keys of other namespaces
    (``gcp:project``) are kept with their namespace.
    """
    out: dict[str, Any] = {}
    prefix = f"{project}:"
    for key, raw in config_env.items():
        name = key[len(prefix) :] if key.startswith(prefix) else key
        value: Any = raw
        if isinstance(raw, str) and raw[:1] in "{[":
            try:
                value = json.loads(raw)
            except ValueError:
                value = raw
        out[name] = value
    return out


def dig(node: Any, *path: str) -> Any:
    """``node[path[0]][path[1]]...`` or None when any step is missing or not a mapping."""
    for part in path:
        if not isinstance(node, Mapping):
            return None
        node = node.get(part)
    return node


def items(node: Any) -> list[Any]:
    """A list input as a list; None or a non-list as empty (strings are not lists here)."""
    if isinstance(node, Sequence) and not isinstance(node, str | bytes):
        return list(node)
    return []

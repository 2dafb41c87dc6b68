"""Run every policy rule over an offline render (``python -m infra.offline.render``), without
the engine.

    python -m policy.offline out/dev out/prod ...

Each argument is a render directory holding ``resources.json``. Prints one line per finding and
exits 1 when any mandatory rule is violated (advisory findings are printed, never fatal), 2 when a
render cannot be read.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from policy.rules import RULES
from policy.rules.model import Context, Level, Options, Resource, Rule


@dataclass(frozen=True, kw_only=True)
class Finding:
    """One violation of one rule."""

    rule: str
    """Rule name."""
    level: Level
    """The rule's level."""
    urn: str
    """The resource's URN, or ``stack:<name>`` for a stack-config finding."""
    message: str
    """What is wrong and what is allowed."""

    def __str__(self) -> str:
        return f"[{self.level.value}] {self.rule}: {self.urn}: {self.message}"


@dataclass(frozen=True, kw_only=True)
class Render:
    """An offline render of one stack."""

    ctx: Context
    """Stack name and config."""
    resources: list[Mapping[str, Any]]
    """Resources: urn, type, name, options, inputs."""


class RenderError(ValueError):
    """A render directory or file that is not what ``infra.offline.render`` writes."""


def load_render(path: Path) -> Render:
    """Reads ``<path>/resources.json`` (or ``path`` itself when it is the file)."""
    file = path / "resources.json" if path.is_dir() else path
    try:
        doc = json.loads(file.read_text())
    except (OSError, ValueError) as e:
        raise RenderError(f"{file}: not a readable render ({e})") from e
    if (
        not isinstance(doc, Mapping)
        or not isinstance(doc.get("resources"), list)
        or not isinstance(doc.get("stack"), str)
    ):
        raise RenderError(
            f"{file}: expected an object with 'stack' (string) and 'resources' (list)"
        )
    config = doc.get("config") or {}
    return Render(ctx=Context(stack=doc["stack"], config=config), resources=doc["resources"])


def evaluate(render: Render, rules: Iterable[Rule] = RULES) -> list[Finding]:
    """Every finding of ``rules`` over one render: stack checks first, then the checks over all
    resources together, then resource by resource."""
    findings: list[Finding] = []
    rules = list(rules)
    for rule in rules:
        if rule.stack_check is not None:
            findings.extend(
                Finding(
                    rule=rule.name, level=rule.level, urn=f"stack:{render.ctx.stack}", message=m
                )
                for m in rule.stack_check(render.ctx)
            )
    every = [
        Resource(
            type=str(r.get("type", "")), urn=str(r.get("urn", "?")), inputs=r.get("inputs") or {}
        )
        for r in render.resources
    ]
    for rule in rules:
        if rule.resources_check is not None:
            findings.extend(
                Finding(rule=rule.name, level=rule.level, urn=urn, message=m)
                for urn, m in rule.resources_check(every, render.ctx)
            )
    for res in render.resources:
        rtype, inputs = str(res.get("type", "")), res.get("inputs") or {}
        opts = options(res)
        for rule in rules:
            findings.extend(
                Finding(rule=rule.name, level=rule.level, urn=str(res.get("urn", "?")), message=m)
                for m in rule.resource_messages(rtype, inputs, opts, render.ctx)
            )
    return findings


def options(resource: Mapping[str, Any]) -> Options:
    """A render resource's ``options`` (``protect``, ``retainOnDelete``); one it lacks is
    unknown."""
    raw = resource.get("options")
    raw = raw if isinstance(raw, Mapping) else {}

    def flag(key: str) -> bool | None:
        value = raw.get(key)
        return value if isinstance(value, bool) else None

    return Options(protect=flag("protect"), retain_on_delete=flag("retainOnDelete"))


def main(argv: Sequence[str] | None = None) -> int:
    """CLI entry point; see the module docstring."""
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or any(a.startswith("-") for a in args):
        print("usage: python -m policy.offline RENDER_DIR [RENDER_DIR...]", file=sys.stderr)
        return 2
    failed = False
    for arg in args:
        try:
            render = load_render(Path(arg))
        except RenderError as e:
            print(f"error: {e}", file=sys.stderr)
            return 2
        findings = evaluate(render)
        mandatory = [f for f in findings if f.level is Level.MANDATORY]
        for f in findings:
            print(f"{render.ctx.stack}: {f}")
        print(
            f"{render.ctx.stack}: {len(render.resources)} resources, {len(mandatory)} mandatory, "
            f"{len(findings) - len(mandatory)} advisory findings"
        )
        failed = failed or bool(mandatory)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

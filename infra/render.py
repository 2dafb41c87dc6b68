"""Offline render: run the real program under Pulumi mocks and write what it would create.

    python -m infra.render --stack dev [--set PATH=VALUE]... [--set-secret PATH=VALUE]... --out DIR

PATH is written as for ``pulumi config set --path`` (``apps.kubia.activeColor``,
``apps.imageview.configMaps.projectid["project.id"]``); keys without a namespace belong to
``gke-bluegreen``. Writes

* ``DIR/resources.json``: the stack, its config (secrets redacted) and every registered resource
  (urn, type, name, parent, provider, dependencies, inputs with secrets as ``"[secret]"``);
* ``DIR/outputs.json``: the stack outputs (secrets redacted);
* ``DIR/manifests/<kind>-<name>.yaml``: every Kubernetes object as it would be applied, Secret
  values redacted.

Declared secrets that are unset (or encrypted in the stack file, which needs the stack's key) get
placeholder values, still marked secret. Bad config: exit 2 with the one-line error on stderr and
nothing written.
"""

from __future__ import annotations

import argparse
import functools
import json
import re
import runpy
import shutil
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pulumi
import yaml

from infra import mocks
from infra.config import PROJECT, ROOT, ConfigError

STACKS_DIR = ROOT / "stacks"
PROGRAM = ROOT / "__main__.py"
SECRETS_KEY = f"{PROJECT}:secrets"
_SEGMENT = re.compile(r'\.?([^.\[\]"]+)|\[(\d+)\]|\["([^"]+)"\]')


class RenderError(Exception):
    """A render input is wrong (unknown stack, malformed --set)."""


@dataclass
class Render:
    """What one run of the program registered."""

    stack: str
    config: dict[str, Any]
    resources: list[mocks.Registered]
    outputs: dict[str, Any]

    def of_type(self, typ: str) -> list[mocks.Registered]:
        """Resources of one Pulumi type token, in registration order."""
        return [r for r in self.resources if r.type == typ]

    def manifests(self) -> list[dict[str, Any]]:
        """Every Kubernetes object as applied, Secret values redacted (keys kept)."""
        return [manifest(r) for r in self.resources if is_kubernetes_object(r)]


def stack_names() -> list[str]:
    """Stacks that have a stack file."""
    return sorted(p.name[len("Pulumi.") : -len(".yaml")] for p in STACKS_DIR.glob("Pulumi.*.yaml"))


def parse_path(path: str) -> tuple[str, list[str | int]]:
    """``'apps.kubia.colors.blue.replicas'`` → (``'gke-bluegreen:apps'``, [...]) as the CLI does."""
    namespace = PROJECT
    if ":" in path.split(".", 1)[0]:
        namespace, path = path.split(":", 1)
    segments: list[str | int] = []
    pos = 0
    while pos < len(path):
        m = _SEGMENT.match(path, pos)
        if not m or (pos == 0 and path.startswith(".")):
            raise RenderError(f'--set path {path!r}: expected a.b.c, a[0] or a["key.with.dots"]')
        name, index, quoted = m.groups()
        segments.append(int(index) if index is not None else (name or quoted))
        pos = m.end()
    if not segments or not isinstance(segments[0], str):
        raise RenderError(f"--set path {path!r}: must start with a key name")
    return f"{namespace}:{segments[0]}", segments[1:]


def _scalar(text: str) -> Any:
    """Values as the CLI stores them with --path: true/false and whole numbers typed."""
    if text in ("true", "false"):
        return text == "true"
    if re.fullmatch(r"-?[0-9]+", text):
        return int(text)
    return text


def _set_in(container: Any, segments: list[str | int], value: Any) -> Any:
    if not segments:
        return value
    head, rest = segments[0], segments[1:]
    if isinstance(head, int):
        items = list(container) if isinstance(container, list) else []
        while len(items) <= head:
            items.append(None)
        items[head] = _set_in(items[head], rest, value)
        return items
    obj = dict(container) if isinstance(container, dict) else {}
    obj[head] = _set_in(obj.get(head), rest, value)
    return obj


def _strip_secure(value: Any) -> Any:
    """Encrypted stack-file values need the stack's key; drop them (placeholders follow)."""
    if isinstance(value, dict):
        if set(value) == {"secure"}:
            return None
        return {k: v for k, v in ((k, _strip_secure(v)) for k, v in value.items()) if v is not None}
    return value


def stack_config(
    stack: str, sets: Sequence[str] = (), secret_sets: Sequence[str] = ()
) -> tuple[dict[str, Any], list[str]]:
    """The stack file's config with overrides, as decoded values, and the secret keys."""
    path = STACKS_DIR / f"Pulumi.{stack}.yaml"
    if not path.is_file():
        raise RenderError(f"no stack {stack!r}: stacks are {', '.join(stack_names())}")
    document = yaml.safe_load(path.read_text()) or {}
    config: dict[str, Any] = {
        k: _strip_secure(v) for k, v in (document.get("config") or {}).items()
    }
    secret_keys = {SECRETS_KEY} if SECRETS_KEY in config else set()
    for items, secret in ((sets, False), (secret_sets, True)):
        for item in items:
            path_text, sep, text = item.partition("=")
            if not sep:
                raise RenderError(f"--set {item!r}: expected PATH=VALUE")
            key, segments = parse_path(path_text)
            config[key] = _set_in(config.get(key), segments, _scalar(text))
            if secret:
                secret_keys.add(key)
    _fill_placeholders(config)
    if SECRETS_KEY in config:
        secret_keys.add(SECRETS_KEY)
    return config, sorted(secret_keys)


def _fill_placeholders(config: dict[str, Any]) -> None:
    """Gives every declared but unset app secret a placeholder value (still secret)."""
    apps = config.get(f"{PROJECT}:apps")
    if not isinstance(apps, dict):
        return
    secrets = config.get(SECRETS_KEY) or {}
    if not isinstance(secrets, dict):
        return
    for app, spec in apps.items():
        declared = (spec or {}).get("secret") if isinstance(spec, dict) else None
        if not isinstance(declared, dict) or not isinstance(declared.get("keys"), list):
            continue
        values = dict(secrets.get(app) or {})
        for key in declared["keys"]:
            values.setdefault(str(key), f"placeholder-{app}-{key}")
        secrets[app] = values
    if secrets:
        config[SECRETS_KEY] = secrets


def run(
    stack: str, config: dict[str, Any], secret_keys: Sequence[str], *, preview: bool = False
) -> Render:
    """Runs ``__main__.py`` under mocks with this config; raises what the program raises."""
    wire = {k: v if isinstance(v, str) else json.dumps(v) for k, v in config.items()}
    monitor = mocks.install(stack, wire, list(secret_keys), preview=preview)

    outputs: dict[str, Any] = {}

    @pulumi.runtime.test  # type: ignore[untyped-decorator]
    def program() -> pulumi.Output[Any]:
        runpy.run_path(str(PROGRAM), run_name="__pulumi_program__")
        # Under mocks the root stack never registers its outputs; collect the exports here,
        # keeping which of them are secret.
        root = pulumi.runtime.settings.get_root_resource()
        exports: dict[str, Any] = dict(getattr(root, "outputs", {}))
        captured = []
        for key, value in exports.items():
            out = pulumi.Output.from_input(value)
            pair = pulumi.Output.all(out, out.is_secret())
            captured.append(pair.apply(functools.partial(_keep, outputs, key)))
        return pulumi.Output.all(*captured)

    program()
    return Render(stack=stack, config=config, resources=monitor.registered, outputs=outputs)


def _keep(outputs: dict[str, Any], key: str, pair: list[Any]) -> None:
    """Stores one stack output, wrapped as a secret when it is one."""
    value, secret = pair
    outputs[key] = {mocks.SECRET_SIG: mocks.SECRET_VALUE, "value": value} if secret else value


def is_kubernetes_object(r: mocks.Registered) -> bool:
    """A Kubernetes API object (not a provider, not a component)."""
    return r.custom and r.type.startswith("kubernetes:") and not r.type.startswith("pulumi:")


def manifest(r: mocks.Registered) -> dict[str, Any]:
    """The object a Kubernetes resource applies: its inputs plus the name the provider gave it."""
    body = mocks.redact_leaves(r.inputs)
    name = (r.outputs.get("metadata") or {}).get("name")
    metadata = dict(body.get("metadata") or {})
    if name:
        metadata["name"] = name
    ordered = {"apiVersion": body.pop("apiVersion"), "kind": body.pop("kind"), "metadata": metadata}
    body.pop("metadata", None)
    ordered.update(body)
    return ordered


def write(render: Render, out: Path) -> None:
    """Writes the render to ``out`` atomically: a failed render leaves nothing behind."""
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".render-", dir=out.parent))
    try:
        document = {
            "stack": render.stack,
            "project": PROJECT,
            "config": mocks.redact_leaves(
                {
                    k.split(":", 1)[1] if k.startswith(f"{PROJECT}:") else k: _secret_if(k, v)
                    for k, v in render.config.items()
                }
            ),
            "resources": [
                {
                    "urn": r.urn,
                    "type": r.type,
                    "name": r.name,
                    "parent": r.parent,
                    "provider": r.provider,
                    "dependencies": r.dependencies,
                    "inputs": _inputs(r),
                }
                for r in sorted(render.resources, key=lambda r: r.urn)
            ],
        }
        (staging / "resources.json").write_text(json.dumps(document, indent=2, sort_keys=True))
        (staging / "outputs.json").write_text(
            json.dumps(mocks.redact(render.outputs), indent=2, sort_keys=True)
        )
        manifests = staging / "manifests"
        manifests.mkdir()
        for obj in render.manifests():
            file = manifests / f"{obj['kind'].lower()}-{obj['metadata']['name']}.yaml"
            file.write_text(yaml.safe_dump(obj, sort_keys=False))
        if out.exists():
            shutil.rmtree(out)
        staging.rename(out)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _secret_if(key: str, value: Any) -> Any:
    return {mocks.SECRET_SIG: mocks.SECRET_VALUE, "value": value} if key == SECRETS_KEY else value


def _inputs(r: mocks.Registered) -> dict[str, Any]:
    inputs = mocks.redact(r.inputs)
    if "__provider" in inputs:
        # A dynamic provider's pickled code: meaningless to a reviewer, and large.
        inputs["__provider"] = "[serialized dynamic provider]"
    return dict(inputs)


def main(argv: Sequence[str] | None = None) -> int:
    """CLI entry point; returns the exit code."""
    parser = argparse.ArgumentParser(
        prog="python -m infra.render", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--stack", required=True, help="stack name (stacks/Pulumi.<stack>.yaml)")
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="PATH=VALUE",
        help="override a config value, as pulumi config set --path",
    )
    parser.add_argument(
        "--set-secret",
        action="append",
        default=[],
        metavar="PATH=VALUE",
        help="set a secret config value, as pulumi config set --secret --path",
    )
    parser.add_argument("--out", required=True, type=Path, help="output folder (replaced)")
    args = parser.parse_args(argv)
    try:
        config, secret_keys = stack_config(args.stack, args.set, args.set_secret)
        render = run(args.stack, config, secret_keys)
    except (RenderError, ConfigError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    write(render, args.out)
    kinds = len(render.manifests())
    print(
        f"rendered stack {args.stack}: {len(render.resources)} resources, {kinds} Kubernetes "
        f"objects -> {args.out}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

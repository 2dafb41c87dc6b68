"""A stack's config as the engine hands it to the program, built offline from Pulumi.yaml, the stack
file and ``--set`` overrides, with the Pulumi CLI's own rules (pulumi/pulumi at 1b59498):

* ``pkg/workspace/config.go`` ``mergeConfig`` and the project file's rules, in
  :mod:`infra.offline.cli_rules`: a missing key stops with the CLI's message, defaults fill what the
  stack file leaves unset, typed keys are type-checked, ``secret: true`` keys must be encrypted;
* ``--set PATH=VALUE`` overrides read and applied as ``pulumi config set --path`` does, by
  :mod:`infra.config.keypath` (the one home of that rule; the release tool edits with it too);
* structured values reach the program as JSON with sorted keys (Go's ``encoding/json``), so apps
  are visited in name order, not file order.

Every problem is a :class:`StackFileError` with one line; nothing here raises anything else for
any input. The stack file is read here for every tool, the release tool's round-trip editor
included (:func:`stack_text`), so that a file the tools cannot take is refused the same way by
each: text that is not UTF-8, and a key set twice in one mapping (PyYAML would silently keep the
last one, ruamel.yaml refuses it in words of its own).
"""

from __future__ import annotations

import copy
import functools
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from infra import paths
from infra.config import keypath
from infra.config import secrets as secrets_section
from infra.offline import cli_rules
from infra.settings import PROJECT, show


class StackFileError(Exception):
    """A project file, stack file or override is not usable; the message is one line."""


@dataclass(frozen=True)
class StackConfig:
    """What the engine would pass the program for one stack."""

    stack: str
    """Stack name."""
    values: dict[str, Any]
    """Decoded values by full key (``gke-bluegreen:apps``), project defaults merged in."""
    secret_keys: frozenset[str]
    """Keys whose value is (or holds) a secret."""

    def wire(self) -> dict[str, str]:
        """The values as strings, the way ``PULUMI_CONFIG`` carries them."""
        return {k: to_wire(v) for k, v in self.values.items()}


def to_wire(value: Any) -> str:
    """One config value as the engine sends it: text as is, the rest as JSON with sorted keys."""
    if isinstance(value, str):
        return value
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


class EncodingError(StackFileError):
    """The file is not UTF-8 text."""


class DuplicateKeyError(StackFileError):
    """A mapping of the file sets one key twice."""


class _DuplicateKey(yaml.constructor.ConstructorError):
    pass


#: Byte-order marks of the encodings an editor may save a file in instead of UTF-8.
_BOMS = {
    b"\xff\xfe\x00\x00": "UTF-32",
    b"\x00\x00\xfe\xff": "UTF-32",
    b"\xff\xfe": "UTF-16",
    b"\xfe\xff": "UTF-16",
}


def read_text(path: Path, what: str) -> str:
    """The file's text; one line when it cannot be read or is not UTF-8 (:class:`EncodingError`,
    which names the encoding it was saved in when its byte-order mark tells)."""
    try:
        data = path.read_bytes()
    except OSError as err:
        raise StackFileError(f"{what} {path.name} cannot be read: {err.strerror}") from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as err:
        found = next((name for bom, name in _BOMS.items() if data.startswith(bom)), None)
        if found is not None:
            where = f"saved as {found}"
        else:
            line = data.count(b"\n", 0, err.start) + 1
            where = f"byte 0x{data[err.start]:02x} on line {line}"
        raise EncodingError(
            f"{what} {path.name} is not UTF-8 text ({where}); save it as UTF-8"
        ) from None


class _UniqueKeyLoader(yaml.SafeLoader):
    """PyYAML's safe loader, refusing a key set twice in one mapping (PyYAML keeps the last)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: dict[tuple[type, Any], int] = {}
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue  # `<<: *anchor`: keys given beside it may override what it merges
            key = self.construct_object(key_node, deep=True)
            try:
                first = seen.get((type(key), key))
            except TypeError:
                continue  # an unhashable key: SafeLoader refuses it in its own words
            if first is not None:
                raise _DuplicateKey(
                    None,
                    None,
                    f"key {show(key)} is set twice in one mapping (first on line {first + 1}); "
                    "keep one",
                    key_node.start_mark,
                )
            seen[(type(key), key)] = key_node.start_mark.line
        return super().construct_mapping(node, deep=deep)


@functools.lru_cache(maxsize=32)
def _parsed(text: str) -> Any:
    """``text`` parsed; kept, because one command reads Pulumi.yaml and the stack file again for
    each question it asks of them (PyYAML's pure-Python parser takes milliseconds a file)."""
    return yaml.load(text, Loader=_UniqueKeyLoader)  # noqa: S506 - a SafeLoader subclass


def parse_yaml(text: str, path: Path, what: str) -> Any:
    """``text`` (the file at ``path``) as YAML, each key once per mapping; one line when not."""
    try:
        # A copy: callers edit what they get (overrides, defaults).
        return copy.deepcopy(_parsed(text))
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        problem = getattr(err, "problem", None) or "not valid YAML"
        kind = DuplicateKeyError if isinstance(err, _DuplicateKey) else StackFileError
        raise kind(f"{what} {path.name}{where}: {problem}") from None
    except ValueError as err:  # e.g. an integer too long to convert
        raise StackFileError(f"{what} {path.name}: {err}") from None


def _load_yaml(path: Path, what: str) -> Any:
    return parse_yaml(read_text(path, what), path, what)


def project(path: Path | None = None) -> dict[str, Any]:
    """Pulumi.yaml as a mapping, checked as the CLI checks it (:mod:`.cli_rules`)."""
    path = path or paths.PROJECT_FILE
    document = _load_yaml(path, "project file")
    if not isinstance(document, dict):
        raise StackFileError(f"project file {path.name}: expected a mapping of keys")
    problems = cli_rules.project_problems(document)
    if problems:
        raise StackFileError(f"project file {path.name}: {problems[0]}")
    return document


def stacks_dir(path: Path | None = None) -> Path:
    """Where stack files live: ``stackConfigDir`` of Pulumi.yaml, else beside it."""
    path = path or paths.PROJECT_FILE
    config_dir = project(path).get("stackConfigDir") or "."
    return (path.parent / str(config_dir)).resolve()


def stack_names(path: Path | None = None) -> list[str]:
    """Stacks that have a stack file."""
    return sorted(
        p.name[len("Pulumi.") : -len(".yaml")] for p in stacks_dir(path).glob("Pulumi.*.yaml")
    )


def stack_names_shown(path: Path | None = None) -> str:
    """The stacks for a tool's help text, ``dev, imageview, ...``; why none are listed when the
    project file cannot be read (help still shows)."""
    try:
        return ", ".join(stack_names(path)) or "none yet"
    except StackFileError as err:
        return f"none listed: {err}"


def stack_file(stack: str, path: Path | None = None) -> Path:
    """The stack's file; an unknown stack is an error that lists the known ones."""
    if not re.fullmatch(r"[A-Za-z0-9_.-]{1,100}", stack):
        raise StackFileError(f"stack name {stack!r}: letters, digits, '-', '_' and '.' only")
    file = stacks_dir(path) / f"Pulumi.{stack}.yaml"
    if not file.is_file():
        names = ", ".join(stack_names(path)) or "(none)"
        raise StackFileError(f"no stack {stack!r}: stacks are {names}")
    return file


def stack_text(stack: str, path: Path | None = None) -> str:
    """The stack file's text, once it is known to be UTF-8 and to set each key once: what a tool
    that edits the file (keeping its comments) parses with its own YAML library. Text that is not
    YAML at all is left to that library, which says where in its own words."""
    file = stack_file(stack, path)
    text = read_text(file, "stack file")
    try:
        parse_yaml(text, file, "stack file")
    except DuplicateKeyError:
        raise
    except StackFileError:
        pass
    return text


def stack_document(stack: str, path: Path | None = None) -> dict[str, Any]:
    """The stack file as a mapping (an empty file is an empty stack)."""
    file = stack_file(stack, path)
    document = _load_yaml(file, "stack file")
    if document is None:
        return {}
    if not isinstance(document, dict):
        raise StackFileError(f"stack file {file.name}: expected a mapping with a config: key")
    config = document.get("config")
    if config is not None and not isinstance(config, dict):
        raise StackFileError(f"stack file {file.name}: config: must be a mapping of keys")
    return document


def full_key(key: str) -> str:
    """``apps`` → ``gke-bluegreen:apps``; namespaced keys stay as they are."""
    return key if ":" in key else f"{PROJECT}:{key}"


def config_of(document: dict[str, Any]) -> dict[str, Any]:
    """A stack file's ``config:`` by full key, as the file holds it (encrypted values too)."""
    return {full_key(str(key)): value for key, value in (document.get("config") or {}).items()}


def has_secure(value: Any) -> bool:
    """True when ``value`` is or holds an encrypted ``secure:`` value."""
    if isinstance(value, dict):
        return set(value) == {"secure"} or any(has_secure(v) for v in value.values())
    if isinstance(value, list):
        return any(has_secure(v) for v in value)
    return False


def _strip_secure(value: Any) -> Any:
    """Encrypted values need the stack's key, which the offline tools never have: dropped
    (placeholders follow)."""
    if isinstance(value, dict):
        if set(value) == {"secure"}:
            return None
        return {k: v for k, v in ((k, _strip_secure(v)) for k, v in value.items()) if v is not None}
    return value


def merged(
    stack: str,
    sets: Sequence[str] = (),
    secret_sets: Sequence[str] = (),
    path: Path | None = None,
) -> StackConfig:
    """The stack file's config, overrides applied, then Pulumi.yaml's defaults for what is unset."""
    document = stack_document(stack, path)
    raw_config: dict[str, Any] = document.get("config") or {}
    values: dict[str, Any] = {}
    secret: set[str] = set()
    for key, value in raw_config.items():
        full = full_key(str(key))
        if has_secure(value):
            secret.add(full)
        stripped = _strip_secure(value)
        if stripped is not None:
            values[full] = stripped
    for items, is_secret in ((sets, False), (secret_sets, True)):
        for item in items:
            try:
                shown, key, segments, value = keypath.assignment(item)
                values[key] = keypath.set_path(values.get(key), segments, value, shown)
            except keypath.KeyPathError as err:
                raise StackFileError(str(err)) from None
            if is_secret:
                secret.add(key)
    try:
        values = cli_rules.check_merge(stack, project(path), values, secret)
    except cli_rules.CliRuleError as err:
        raise StackFileError(str(err)) from None
    _fill_placeholders(values, secret)
    return StackConfig(stack=stack, values=values, secret_keys=frozenset(secret))


def _fill_placeholders(values: dict[str, Any], secret: set[str]) -> None:
    """Gives every declared but unset app secret a placeholder value (still secret)."""
    key = secrets_section.FULL_KEY
    if values.get(key) and key not in secret:
        return  # a plaintext secrets key: the program refuses it, as under the engine
    filled = secrets_section.with_placeholders(values)
    if filled:
        values[key] = filled
        secret.add(key)

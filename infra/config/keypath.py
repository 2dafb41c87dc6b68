"""A config path and value as ``pulumi config set --path PATH VALUE`` reads them, with the Pulumi
CLI's own rules (pulumi/pulumi at 1b59498, ``sdk/go/common/resource/config/``):

* ``key.go`` ``ParseKey`` and ``path.go``: ``a.b.c``, ``a[0]``, ``a["key.with.dots"]``; a path
  without a namespace is in the project's (``gke-bluegreen:``);
* ``object.go`` ``coerce``: values ``true``/``false`` become booleans, integers that fit 64 bits
  become numbers unless they start with ``0``, anything else stays text;
* ``object.go`` ``Set``: missing objects are created on the way; a list index may be at most the
  list's length (the CLI appends one item at a time).

The offline harness applies ``--set`` overrides with these (:mod:`infra.offline.stackfile`), and
the release tool edits the stack file with them, into its round-trip YAML tree: :func:`set_path`
edits a container in place and takes the mapping type to create.
"""

from __future__ import annotations

import re
from collections.abc import Callable, MutableMapping, Sequence
from typing import Any

from infra.settings import PROJECT

_SEGMENT = re.compile(r'\.?([^.\[\]"]+)|\[(\d{1,20})\]|\["([^"]+)"\]')
#: A path segment may not address beyond this many list items (the CLI appends one at a time).
MAX_INDEX = 10_000

Segments = list[str | int]


class KeyPathError(ValueError):
    """A path or ``PATH=VALUE`` the CLI would refuse; the message is one line."""


def coerce(text: str) -> Any:
    """A ``--path`` value typed the way the CLI types it (object.go ``coerce``)."""
    if text in ("true", "false"):
        return text == "true"
    if len(text) > 1 and text[0] == "0":
        return text
    if re.fullmatch(r"[+-]?[0-9]{1,20}", text):
        number = int(text)
        if -(2**63) <= number < 2**64:
            return number
    return text


def parse_path(path: str) -> tuple[str, Segments]:
    """``'apps.kubia.colors.blue.replicas'`` → (``'gke-bluegreen:apps'``, ``['kubia', 'colors',
    'blue', 'replicas']``): the full top-level key, then the segments below it."""
    namespace = PROJECT
    if ":" in path.split(".", 1)[0]:
        namespace, path = path.split(":", 1)
    segments: Segments = []
    pos = 0
    while pos < len(path):
        m = _SEGMENT.match(path, pos)
        if not m or (pos == 0 and path.startswith(".")):
            raise KeyPathError(f'--set path {path!r}: expected a.b.c, a[0] or a["key.with.dots"]')
        name, index, quoted = m.groups()
        segments.append(int(index) if index is not None else (name or quoted))
        pos = m.end()
    if not segments or not isinstance(segments[0], str):
        raise KeyPathError(f"--set path {path!r}: must start with a key name")
    return f"{namespace}:{segments[0]}", segments[1:]


def assignment(item: str) -> tuple[str, str, Segments, Any]:
    """``PATH=VALUE`` → (PATH as typed, its full top-level key, the segments below it, the value
    typed by :func:`coerce`)."""
    path, sep, text = item.partition("=")
    if not sep:
        raise KeyPathError(f"--set {item!r}: expected PATH=VALUE")
    key, segments = parse_path(path)
    return path, key, segments, coerce(text)


def set_path(
    container: Any,
    segments: Sequence[str | int],
    value: Any,
    shown: str,
    new_mapping: Callable[[], MutableMapping[Any, Any]] = dict,
) -> Any:
    """``container`` with ``value`` set at ``segments`` (the CLI's ``object.Set`` rules). A
    mapping or list on the way is edited in place (so a round-trip YAML node keeps its comments);
    anything else there is replaced by a new ``new_mapping()`` or list. ``shown`` is the path as
    the user typed it, for the error line."""
    if not segments:
        return value
    head, rest = segments[0], segments[1:]
    if isinstance(head, int):
        items = container if isinstance(container, list) else []
        if head > len(items) or head > MAX_INDEX:
            raise KeyPathError(
                f"--set {shown}: array index {head} out of range (the list has {len(items)} "
                f"items; add one at index {len(items)})"
            )
        if head == len(items):
            items.append(None)
        items[head] = set_path(items[head], rest, value, shown, new_mapping)
        return items
    mapping = container if isinstance(container, MutableMapping) else new_mapping()
    mapping[head] = set_path(mapping.get(head), rest, value, shown, new_mapping)
    return mapping

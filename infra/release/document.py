"""Editing the stack file: ``stacks/Pulumi.<stack>.yaml`` as a round-trip YAML document, so that an
edit keeps its comments and the order of its keys, and what the tool writes reads like what a
person wrote (no value wrapped onto a line of its own, no line ending in a space, references on
one line as the stack files write them).

The file is replaced whole (a temporary file renamed over it), so it is never half written, not even
when Ctrl-C lands meanwhile (:func:`infra.cli.uninterrupted`).
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap
from ruamel.yaml.error import YAMLError

from infra.cli import uninterrupted
from infra.config import keypath
from infra.config import secrets as secrets_section
from infra.offline import stackfile
from infra.release.errors import ReleaseError
from infra.settings import PROJECT

APPS_KEY = f"{PROJECT}:apps"
SECRETS_KEY = f"{PROJECT}:{secrets_section.KEY}"
#: Wider than any line of a stack file. ruamel folds a scalar that would end past ``width`` onto
#: the next line and leaves ``image: `` (with its space) behind; an image reference by digest
#: alone is about 100 characters. Nothing the tool writes is meant to be folded.
NO_WRAP = 1 << 16


class StackFile:
    """The stack file as a round-trip YAML document (comments and order survive an edit)."""

    def __init__(self, stack: str) -> None:
        self.stack = stack
        self.path = stackfile.stack_file(stack)
        self.yaml = YAML()
        self.yaml.preserve_quotes = True
        self.yaml.width = NO_WRAP
        try:
            self.read = stackfile.stack_text(stack)
            document = self.yaml.load(self.read) or CommentedMap()
        except (OSError, UnicodeDecodeError, YAMLError) as err:
            first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
            raise ReleaseError(
                f"{self.path.name}: cannot read it as YAML ({first}); fix the file (git diff "
                "shows what changed), then run the step again"
            ) from None
        if not isinstance(document, CommentedMap):
            raise ReleaseError(
                f"{self.path.name}: the document must be a mapping with a config: key; fix the "
                "file, then run the step again"
            )
        self.document: CommentedMap = document

    def config(self) -> CommentedMap:
        """The ``config:`` mapping (created when the file has none)."""
        return child(self.document, "config")

    def app(self, name: str) -> CommentedMap:
        """``apps.<name>``; an app the file does not declare is an error naming those it does."""
        apps = self.config().get(APPS_KEY)
        if not isinstance(apps, Mapping) or name not in apps:
            known = ", ".join(apps) if isinstance(apps, Mapping) and apps else "(none)"
            raise ReleaseError(
                f"--app {name!r}: stack {self.stack} has no such app; its apps: {known}"
            )
        return apps[name]  # type: ignore[no-any-return]

    def secrets(self, app: str) -> CommentedMap | None:
        """``secrets.<app>`` (encrypted values, never decrypted here), or ``None`` when unset."""
        values = self.config().get(SECRETS_KEY)
        node = values.get(app) if isinstance(values, Mapping) else None
        return node if isinstance(node, CommentedMap) else None

    def set(self, item: str) -> None:
        """``PATH=VALUE`` set as ``pulumi config set --path PATH VALUE`` would set it."""
        try:
            shown, key, segments, value = keypath.assignment(item)
            config = self.config()
            config[key] = keypath.set_path(config.get(key), segments, value, shown, CommentedMap)
        except keypath.KeyPathError as err:
            raise ReleaseError(str(err)) from None

    def text(self) -> str:
        """The document as it would be written."""
        out = io.StringIO()
        self.yaml.dump(self.document, out)
        return out.getvalue()

    def changed(self) -> bool:
        """True when the edited document differs from the file as it was read."""
        return self.text() != self.read

    def write(self) -> None:
        """Replaces the stack file whole (a temporary file renamed over it): never half written.
        A file that changed since it was read (an editor, a pull) is left as it is: writing over
        it would lose that change."""
        text = self.text()
        try:
            now = stackfile.read_text(self.path, "stack file")  # read as __init__ read it
        except stackfile.StackFileError:
            now = None
        if now != self.read:
            raise ReleaseError(
                f"{self.path.name} changed since this step read it (another edit, a pull); "
                "nothing written: run the step again on the file as it is now"
            )
        with uninterrupted(f"{self.path.name} was written"):
            temporary = self.path.with_name(f".{self.path.name}.writing")
            try:
                temporary.write_text(text)
                temporary.replace(self.path)
            except OSError as err:
                temporary.unlink(missing_ok=True)
                problem = err.strerror or str(err)
                raise ReleaseError(
                    f"cannot write {self.path.name}: {problem}; it is unchanged, run the step "
                    "again once it can be written"
                ) from None
        self.read = text


def child(node: CommentedMap, *keys: str) -> CommentedMap:
    """The mapping at ``keys`` under ``node``, created (or replacing a non-mapping) on the way."""
    for key in keys:
        if not isinstance(node.get(key), Mapping):
            node[key] = CommentedMap()
        node = node[key]
    return node


def node_of(value: Any, *, inline: bool = False) -> Any:
    """``value`` (plain dicts, lists, scalars) as round-trip nodes. ``inline`` writes a mapping of
    scalars on one line, ``{name: x, key: y}``, the way the stack files write references."""
    if not isinstance(value, Mapping):
        return value
    mapping = CommentedMap((k, node_of(v, inline=inline)) for k, v in value.items())
    if inline and not any(isinstance(v, Mapping) for v in value.values()):
        mapping.fa.set_flow_style()
    return mapping

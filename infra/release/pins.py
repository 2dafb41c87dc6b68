"""What pinning writes into the stack file: a color made to run exactly what it runs now (its image
by reference, its env and ConfigMaps as its own overrides, its own encrypted copy of the secret
values), and the release record (``apps.<app>.release.live | candidate | previous``)."""

from __future__ import annotations

import copy
import hashlib
import json
from collections.abc import Mapping, MutableMapping
from typing import Any

from ruamel.yaml.comments import CommentedMap

from infra import cutover
from infra.config import colors as colors_section
from infra.config import record as record_section
from infra.config import secrets as secrets_section
from infra.release.document import StackFile, child, node_of
from infra.release.errors import ReleaseError
from infra.settings import AppSettings, Color, ColorPin


def record(node: CommentedMap, role: str, entry: Mapping[str, str] | None) -> None:
    """Sets (or, with ``None``, removes) ``release.<role>`` of the app's node."""
    release = child(node, "release")
    if entry is None:
        release.pop(role, None)
    else:
        release[role] = node_of(entry)


def pin_color(file: StackFile, app: AppSettings, color: Color, image: str) -> dict[str, str]:
    """Makes ``color`` run exactly what it runs now, whatever the app-level config does next:
    the image by reference, its env and ConfigMaps as its own overrides, its secret values as
    its own encrypted copies. Returns its record."""
    spec = app.colors[color]
    entry = child(file.app(app.name), "colors", color)
    entry.pop("source", None)
    entry["image"] = image
    if spec.env:
        env = {var.name: colors_section.env_entry(var) for var in spec.env}
        entry["env"] = node_of(env, inline=True)
    if spec.config_maps:
        entry["configMaps"] = node_of({cm: dict(data) for cm, data in spec.config_maps.items()})
    secrets = pin_secrets(file, app, color) if app.secret is not None else None
    pin = ColorPin(color=color, image=image, config=cutover.snapshot_digest(app, color))
    return record_section.pin_entry(pin, secrets)


def pin_secrets(file: StackFile, app: AppSettings, color: Color) -> str:
    """Copies the app-level encrypted values into the color's own copy (ciphertext only: the
    tool never decrypts); a color that has its own copy keeps it. Returns the copy's digest."""
    assert app.secret is not None
    values = file.secrets(app.name)
    if values is None:
        raise ReleaseError(
            f"secrets.{app.name} is not set, and {color} must keep its own copy of them: set "
            f"them first ({secrets_section.set_command(app.name, app.secret.keys[0])}, and so on "
            "for each key), then run the step again"
        )
    copies = child(values, secrets_section.COLORS_KEY)
    if color not in copies:
        own = CommentedMap()
        for key in app.secret.keys:
            if key not in values:
                raise ReleaseError(
                    f"secrets.{app.name}.{key} is not set: "
                    f"{secrets_section.set_command(app.name, key)}, then run the step again"
                )
            own[key] = copy.deepcopy(values[key])
        copies[color] = own
    text = json.dumps(_plain(copies[color]), sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()


def forget_own_secrets(file: StackFile, app: str, color: Color) -> None:
    """Drops ``color``'s own copy of the secret values: it reads the app-level values again."""
    values = file.secrets(app)
    copies = values.get(secrets_section.COLORS_KEY) if values is not None else None
    if isinstance(copies, MutableMapping):
        copies.pop(color, None)


def _plain(node: Any) -> Any:
    if isinstance(node, Mapping):
        return {str(k): _plain(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_plain(v) for v in node]
    return node

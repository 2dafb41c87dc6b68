"""An app's two colors (``apps.<app>.colors``) and what each reads: the source folder or pinned
image it runs, its environment, its ConfigMaps (the app's merged with its own), and the check that
every reference it makes names something the color has."""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Literal

from infra import build_context, cutover, naming
from infra.config import kubernetes
from infra.config.reader import Node, int_in, match, string, text
from infra.paths import APPS, ROOT
from infra.settings import COLORS, Color, ColorSettings, ConfigError, EnvVar, SecretSpec

image_ref = match(
    re.compile(r"[a-z0-9]+([._/:@-][a-zA-Z0-9_.-]+)+"),
    "an image reference such as registry/name@sha256:<digest>",
)


def source_folder(key: str, value: object) -> Path:
    """A folder under ``apps/`` holding a Dockerfile and a valid allow-list, whose build inputs
    all stay under ``apps/``."""
    rel = string(key, value)
    allowed = "a folder under apps/ that holds a Dockerfile and its Dockerfile.dockerignore"
    try:
        folder = (ROOT / rel).resolve()
        found = folder.is_relative_to(APPS.resolve()) and (folder / "Dockerfile").is_file()
    except (OSError, ValueError):  # a name too long for the file system, a NUL byte
        found = False
    if not found:
        raise ConfigError(key, value, allowed)
    try:
        build_context.files(folder, APPS)
    except build_context.BuildInputError as err:
        raise ConfigError(key, value, f"{allowed} allow-list; {err}") from None
    return folder


def read_colors(
    *,
    name: str,
    node: Node,
    app_source: Path | None,
    app_env: dict[str, EnvVar],
    app_maps: dict[str, dict[str, str]],
    replicas: int,
    secret: SecretSpec | None,
) -> dict[Color, ColorSettings]:
    colors: dict[Color, ColorSettings] = {}
    colors_node = node.child("colors").only(*COLORS)
    for color in COLORS:
        cnode = colors_node.child(color)
        source = cnode.get("source", source_folder, None)
        image = cnode.get("image", image_ref, None)
        if image is not None:
            # A pin wins over a source folder: pinning the live color to the digest it runs
            # keeps it on that release while the idle color builds the new one.
            source = None
        elif source is None:
            source = app_source
        if source is None and image is None:
            raise ConfigError(
                cnode.key("source"),
                None,
                f"set apps.{name}.source, or source or image for the {color} color",
            )
        color_env = read_env(cnode.child("env"))
        env = {**app_env, **color_env}
        overrides = read_config_maps(cnode.child("configMaps"))
        for cm_name in overrides:
            if cm_name not in app_maps:
                raise ConfigError(
                    cnode.key(f"configMaps.{cm_name}"),
                    cm_name,
                    f"override a ConfigMap declared under apps.{name}.configMaps: "
                    f"{', '.join(app_maps) or '(none)'}",
                )
        snapshot = {
            cm: MappingProxyType({**data, **overrides.get(cm, {})}) for cm, data in app_maps.items()
        }
        for cm_name, data in snapshot.items():
            too_big = kubernetes.data_size_problem(kubernetes.data_size(data.values()))
            if too_big:
                where = (
                    cnode.key("configMaps") if cm_name in overrides else f"apps.{name}.configMaps"
                )
                raise ConfigError(
                    f"{where}.{cm_name}",
                    dict(data),
                    f"the {color} ConfigMap {cm_name} of app {name} would hold {too_big}; keep "
                    "large files in the image instead",
                )
        for var in env.values():
            where = cnode.key("env") if var.name in color_env else f"apps.{name}.env"
            _check_ref(where, var, color, snapshot, secret)
        colors[color] = ColorSettings(
            color=color,
            source=source,
            image=image,
            replicas=cnode.get("replicas", int_in(0, 1000), replicas),
            env=tuple(env.values()),
            config_maps=MappingProxyType(snapshot),
        )
        cnode.done("source, image, replicas, env, configMaps")
    colors_node.done("blue, green")
    return colors


def read_env(node: Node) -> dict[str, EnvVar]:
    """Reads ``{NAME: value | {configMapKeyRef: {name, key}} | {secretKeyRef: {name, key}}}``."""
    result: dict[str, EnvVar] = {}
    for name, value in node.items():
        key = node.key(name)
        if not kubernetes.is_env_name(name):
            raise ConfigError(
                key,
                name,
                "an environment variable name: letters, digits, '_', not starting with a digit",
            )
        if name in (cutover.PORT_ENV, cutover.COLOR_ENV):
            raise ConfigError(
                key,
                name,
                "another name: the program sets PORT (containerPort) and COLOR (the color of the "
                "pod, answered in the X-Color header) itself",
            )
        if isinstance(value, Mapping):
            ref = Node(key, value)
            cm = ref.child("configMapKeyRef")
            sec = ref.child("secretKeyRef")
            ref.done("configMapKeyRef, secretKeyRef")
            if bool(cm.data) == bool(sec.data):
                raise ConfigError(key, value, "set exactly one of configMapKeyRef, secretKeyRef")
            chosen = cm if cm.data else sec
            ref_name = chosen.require("name", string, "the ConfigMap or Secret name")
            ref_key = chosen.require("key", string, "the key within it")
            chosen.done("name, key")
            kind: Literal["configMap", "secret"] = "secret" if chosen is sec else "configMap"
            result[name] = EnvVar(name=name, ref_kind=kind, ref_name=ref_name, key=ref_key)
        else:
            result[name] = EnvVar(name=name, value=text(key, value))
    return result


def env_entry(var: EnvVar) -> str | dict[str, dict[str, str]]:
    """One variable as the stack file holds it under ``env`` (what :func:`read_env` reads back): its
    literal value, or ``{configMapKeyRef | secretKeyRef: {name, key}}``."""
    if var.value is not None:
        return var.value
    ref = "secretKeyRef" if var.ref_kind == "secret" else "configMapKeyRef"
    return {ref: {"name": str(var.ref_name), "key": str(var.key)}}


def read_config_maps(node: Node) -> dict[str, dict[str, str]]:
    maps: dict[str, dict[str, str]] = {}
    for cm_name, data in node.items():
        cm = Node(node.key(cm_name), data)
        if not naming.is_dns_label(cm_name, naming.CONFIG_OBJECT_NAME_MAX):
            raise ConfigError(
                cm.path,
                cm_name,
                f"a ConfigMap name: lower-case DNS label, at most {naming.CONFIG_OBJECT_NAME_MAX}",
            )
        entries: dict[str, str] = {}
        for k, v in cm.items():
            problem = kubernetes.config_map_key_problem(k)
            if problem:
                raise ConfigError(cm.key(k), k, f"a ConfigMap key: {problem}")
            entries[k] = text(cm.key(k), v)
        maps[cm_name] = entries
    return maps


def _check_ref(
    path: str,
    var: EnvVar,
    color: str,
    maps: Mapping[str, Mapping[str, str]],
    secret: SecretSpec | None,
) -> None:
    """An env reference must name a ConfigMap/Secret key the app declares."""
    if var.value is not None:
        return
    key = f"{path}.{var.name}"
    if var.ref_kind == "secret":
        if secret is None or var.ref_name != secret.name or var.key not in secret.keys:
            declared = f"{secret.name} keys {', '.join(secret.keys)}" if secret else "(none)"
            raise ConfigError(
                key,
                {"name": var.ref_name, "key": var.key},
                f"secretKeyRef must name the app's secret ({declared})",
            )
    elif var.ref_name is None or var.ref_name not in maps or var.key not in maps[var.ref_name]:
        declared = "; ".join(f"{n}: {', '.join(d)}" for n, d in maps.items()) or "(none)"
        raise ConfigError(
            key,
            {"name": var.ref_name, "key": var.key},
            f"configMapKeyRef must name a declared ConfigMap key ({color}: {declared})",
        )

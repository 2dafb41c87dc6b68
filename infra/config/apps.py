"""The ``apps`` section: each blue/green app, its colors, config, Secret, Services and limits."""

from __future__ import annotations

import re
from collections.abc import Mapping
from decimal import Decimal
from pathlib import Path
from types import MappingProxyType
from typing import Literal, cast

from infra import build_context, naming
from infra.config import kubernetes
from infra.config.reader import (
    Node,
    boolean,
    choice,
    dns_label,
    int_in,
    match,
    string,
    text,
    url_path,
)
from infra.paths import APPS, ROOT
from infra.settings import (
    COLORS,
    AppSettings,
    Color,
    ColorPin,
    ColorSettings,
    ConfigError,
    EnvVar,
    ReleaseRecord,
    ResourceSettings,
    SecretSpec,
    ServiceSettings,
    ServiceType,
    SmokeSettings,
)

image_ref = match(
    re.compile(r"[a-z0-9]+([._/:@-][a-zA-Z0-9_.-]+)+"),
    "an image reference such as registry/name@sha256:<digest>",
)
SERVICE_TYPES: tuple[ServiceType, ...] = ("LoadBalancer", "ClusterIP", "NodePort")
#: Container resources and their defaults.
RESOURCE_DEFAULTS = {
    "cpuRequest": "50m",
    "memoryRequest": "64Mi",
    "cpuLimit": "500m",
    "memoryLimit": "128Mi",
}


def parse(node: Node) -> dict[str, AppSettings]:
    """Reads every app under ``apps``; names no two apps may share are checked here."""
    if not node.data:
        raise ConfigError("apps", None, "declare at least one app under apps.<name>")
    apps = {name: _app(name, Node(node.key(name), value)) for name, value in node.items()}
    clash = naming.first_clash(apps)
    if clash is not None:
        earlier, later = clash
        raise ConfigError(
            later.key,
            later.name,
            f"{later.kind} name already taken by {earlier.key}; names must be unique in a stack",
        )
    return apps


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


def _app(name: str, node: Node) -> AppSettings:
    if not naming.is_dns_label(name, naming.APP_NAME_MAX):
        raise ConfigError(
            node.path, name, f"an app name: lower-case DNS label, at most {naming.APP_NAME_MAX}"
        )
    app_source = node.get("source", source_folder, None)
    app_env = _env(node.child("env"))
    app_maps = _config_maps(node.child("configMaps"))
    replicas = node.get("replicas", int_in(0, 1000), 1)
    secret = _secret(node.child("secret"))
    colors = _colors(
        name=name,
        node=node,
        app_source=app_source,
        app_env=app_env,
        app_maps=app_maps,
        replicas=replicas,
        secret=secret,
    )

    service_node = node.child("service")
    service_name = service_node.get("name", dns_label(naming.SERVICE_NAME_MAX), name)
    service = ServiceSettings(
        name=service_name,
        type=cast(ServiceType, service_node.get("type", choice(*SERVICE_TYPES), "ClusterIP")),
        port=service_node.get("port", int_in(1, 65535), 80),
        preview_name=service_node.get(
            "previewName",
            dns_label(naming.DNS_LABEL_MAX),
            naming.default_preview_service(service_name),
        ),
    )
    service_node.done("name, type, port, previewName")

    smoke = _smoke(node.child("smoke"))
    release = _release(node.child("release"))
    drain = node.get("drainSeconds", int_in(0, 300), 5)
    grace = node.get("terminationGracePeriodSeconds", int_in(1, 3600), 30)
    if grace <= drain:
        raise ConfigError(
            node.key("terminationGracePeriodSeconds"),
            grace,
            f"must exceed drainSeconds ({drain}) so the app can shut down",
        )
    settings = AppSettings(
        name=name,
        type_label=node.get("type", dns_label(naming.DNS_LABEL_MAX), name),
        deployment_prefix=node.get("deploymentName", dns_label(naming.DEPLOYMENT_PREFIX_MAX), name),
        container_name=node.get("containerName", dns_label(naming.DNS_LABEL_MAX), name),
        container_port=node.get("containerPort", int_in(1024, 65535), 8080),
        port_name=node.get("portName", _port_name, "http"),
        active_color=cast(Color, node.get("activeColor", choice(*COLORS), "blue")),
        idle_replicas=node.get("idleReplicas", int_in(0, 1000), None),
        colors=MappingProxyType(colors),
        secret=secret,
        service=service,
        resources=_resources(node.child("resources")),
        readiness_path=node.get("readinessPath", url_path, "/readyz"),
        liveness_path=node.get("livenessPath", url_path, "/healthz"),
        drain_seconds=drain,
        termination_grace_seconds=grace,
        run_as_user=node.get("runAsUser", int_in(1, 2**31 - 1), 10001),
        smoke=smoke,
        scale_down_delay_seconds=node.get("scaleDownDelaySeconds", int_in(0, 3600), 30),
        release=release,
    )
    node.done()
    return settings


def _smoke(node: Node) -> SmokeSettings:
    """``smoke``: what a color's smoke Job requests, and how patiently."""
    settings = SmokeSettings(
        enabled=node.get("enabled", boolean, True),
        path=node.get("path", url_path, "/"),
        status=node.get("status", int_in(100, 599), 200),
        text=node.get("text", string, ""),
        attempts=node.get("attempts", int_in(1, 100), 10),
        interval_seconds=node.get("intervalSeconds", int_in(0, 60), 3),
        timeout_seconds=node.get("timeoutSeconds", int_in(1, 60), 5),
        deadline_seconds=node.get("deadlineSeconds", int_in(10, 3600), 300),
    )
    node.done(
        "enabled, path, status, text, attempts, intervalSeconds, timeoutSeconds, deadlineSeconds"
    )
    worst = settings.attempts * (2 * settings.timeout_seconds + settings.interval_seconds)
    if settings.enabled and worst > settings.deadline_seconds:
        raise ConfigError(
            node.key("deadlineSeconds"),
            settings.deadline_seconds,
            f"must leave time for every attempt: attempts x (2 x timeoutSeconds + "
            f"intervalSeconds) = {worst}",
        )
    return settings


_DIGEST = re.compile(r"[0-9a-f]{64}")
pinned_image = match(
    re.compile(
        r"[a-z0-9]+([._/:-][a-zA-Z0-9_.-]+)*@sha256:[0-9a-f]{64}"
        r"|([a-z0-9]+([._/-][a-zA-Z0-9_.-]+)*:)?src-[0-9a-f]{12}"
    ),
    "an image reference pinned by digest (registry/name@sha256:<64 hex>) or by content tag "
    "([name:]src-<12 hex>, the local platform's images)",
)
config_digest = match(_DIGEST, "a config digest: 64 hex characters (written by infra.release)")


def _pin(node: Node) -> ColorPin | None:
    if not node.data:
        return None
    pin = ColorPin(
        color=cast(Color, node.require("color", choice(*COLORS), "blue or green")),
        image=node.require("image", pinned_image, "the image it runs, by digest"),
        config=node.require("config", config_digest, "its config digest"),
    )
    # Read by the release tool only: a digest of the color's encrypted secret copies.
    node.get("secrets", config_digest, None)
    node.done("color, image, config, secrets")
    return pin


def pin_entry(pin: ColorPin, secrets: str | None = None) -> dict[str, str]:
    """A release record's pin as the stack file holds it (what :func:`_pin` reads back);
    ``secrets`` is the digest of the color's own encrypted secret copies, when it has them."""
    entry = {"color": pin.color, "image": pin.image, "config": pin.config}
    if secrets:
        entry["secrets"] = secrets
    return entry


def _release(node: Node) -> ReleaseRecord:
    """``release``: what the release tool recorded as live (and the color kept for rollback)."""
    record = ReleaseRecord(
        live=_pin(node.child("live")),
        candidate=_pin(node.child("candidate")),
        previous=_pin(node.child("previous")),
        allow_live_change=node.get("allowLiveChange", boolean, False),
    )
    node.done("live, candidate, previous, allowLiveChange")
    if record.candidate and record.live and record.candidate.color == record.live.color:
        raise ConfigError(
            node.key("candidate.color"), record.candidate.color, "the other color than live's"
        )
    if record.previous and not record.live:
        raise ConfigError(node.key("previous"), "...", "only with a live record")
    if record.previous and record.live and record.previous.color == record.live.color:
        raise ConfigError(
            node.key("previous.color"), record.previous.color, "the other color than live's"
        )
    return record


def _port_name(key: str, value: object) -> str:
    name = string(key, value)
    problem = kubernetes.port_name_problem(name)
    if problem:
        raise ConfigError(key, value, f"a port name (IANA_SVC_NAME): {problem}")
    return name


def _secret(node: Node) -> SecretSpec | None:
    if not node.data:
        return None
    keys = node.raw("keys")
    if not isinstance(keys, list) or not keys:
        raise ConfigError(node.key("keys"), keys, "a non-empty list of key names")
    for i, k in enumerate(keys):
        problem = kubernetes.config_map_key_problem(k) if isinstance(k, str) else "a string"
        if problem:
            raise ConfigError(node.key(f"keys[{i}]"), k, f"a Secret key: {problem}")
    if len(set(keys)) != len(keys):
        raise ConfigError(node.key("keys"), keys, "each key once")
    if "colors" in keys:
        raise ConfigError(
            node.key("keys"),
            keys,
            "'colors' is reserved (secrets.<app>.colors holds the per-color copies)",
        )
    spec = SecretSpec(
        name=node.require(
            "name", dns_label(naming.CONFIG_OBJECT_NAME_MAX), "the Secret name, e.g. apikey"
        ),
        keys=tuple(keys),
    )
    node.done("name, keys")
    return spec


def _colors(
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
        color_env = _env(cnode.child("env"))
        env = {**app_env, **color_env}
        overrides = _config_maps(cnode.child("configMaps"))
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


def _env(node: Node) -> dict[str, EnvVar]:
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
    """One variable as the stack file holds it under ``env`` (what :func:`_env` reads back): its
    literal value, or ``{configMapKeyRef | secretKeyRef: {name, key}}``."""
    if var.value is not None:
        return var.value
    ref = "secretKeyRef" if var.ref_kind == "secret" else "configMapKeyRef"
    return {ref: {"name": str(var.ref_name), "key": str(var.key)}}


def _config_maps(node: Node) -> dict[str, dict[str, str]]:
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


def _resources(node: Node) -> ResourceSettings:
    values: dict[str, str] = {}
    amounts: dict[str, Decimal] = {}
    for field, default in RESOURCE_DEFAULTS.items():
        resource = "cpu" if field.startswith("cpu") else "memory"
        given = node.get(field, string, default)
        try:
            amounts[field] = kubernetes.quantity(given, resource)
        except kubernetes.QuantityError as err:
            raise ConfigError(
                node.key(field),
                given,
                f"a Kubernetes {resource} quantity such as "
                f"{'100m or 0.5' if resource == 'cpu' else '64Mi or 1Gi'}: {err}",
            ) from None
        values[field] = given
    for resource in ("cpu", "memory"):
        request, limit = amounts[f"{resource}Request"], amounts[f"{resource}Limit"]
        if limit == 0:
            raise ConfigError(
                node.key(f"{resource}Limit"),
                values[f"{resource}Limit"],
                "must be above 0 (Kubernetes reads a zero limit as no limit at all)",
            )
        if request > limit:
            raise ConfigError(
                node.key(f"{resource}Request"),
                values[f"{resource}Request"],
                f"must be less than or equal to {resource} limit "
                f"({values[f'{resource}Limit']}), as the Kubernetes API requires",
            )
    node.done(", ".join(RESOURCE_DEFAULTS))
    return ResourceSettings(
        cpu_request=values["cpuRequest"],
        memory_request=values["memoryRequest"],
        cpu_limit=values["cpuLimit"],
        memory_limit=values["memoryLimit"],
    )

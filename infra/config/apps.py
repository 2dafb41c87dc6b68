"""The ``apps`` section: each blue/green app, its colors, config, Secret, Services and limits, and
how it releases (:mod:`.canary`)."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from decimal import Decimal
from types import MappingProxyType
from typing import cast

from infra import naming
from infra.config import canary, colors, kubernetes, record
from infra.config.reader import (
    Node,
    boolean,
    choice,
    dns_label,
    int_in,
    string,
    url_path,
)
from infra.settings import (
    COLORS,
    AppSettings,
    Color,
    ConfigError,
    ResourceSettings,
    SecretSpec,
    ServiceSettings,
    ServiceType,
    SmokeSettings,
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


def _app(name: str, node: Node) -> AppSettings:
    if not naming.is_dns_label(name, naming.APP_NAME_MAX):
        raise ConfigError(
            node.path, name, f"an app name: lower-case DNS label, at most {naming.APP_NAME_MAX}"
        )
    app_source = node.get("source", colors.source_folder, None)
    app_env = colors.read_env(node.child("env"))
    app_maps = colors.read_config_maps(node.child("configMaps"))
    replicas = node.get("replicas", int_in(0, 1000), 1)
    secret = _secret(node.child("secret"))
    by_color = colors.read_colors(
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
    release = record.read_release(node.child("release"))
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
        colors=MappingProxyType(by_color),
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
    strategy, canary_settings = canary.read(name, node, service_node, settings)
    node.done()
    return dataclasses.replace(settings, strategy=strategy, canary=canary_settings)


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
        image=node.get("image", colors.image_ref, None),
    )
    node.done(
        "enabled, path, status, text, attempts, intervalSeconds, timeoutSeconds, deadlineSeconds, "
        "image"
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


def check_digest_pins(apps: Mapping[str, AppSettings]) -> None:
    """On GKE a pinned smoke client image is by digest, as the release tool pins a color's there
    (``infra.release.start``): a tag can be moved to other contents under the Jobs that run it,
    and no release step pins this one for the user."""
    for app in apps.values():
        image = app.smoke.image
        if image is not None and not record.BY_DIGEST.fullmatch(image):
            raise ConfigError(
                f"apps.{app.name}.smoke.image",
                image,
                "on the gke platform a pinned image must be by digest (registry/name@sha256:<64 "
                "hex>): a tag can be moved to other contents; pin the digest it points at now",
            )


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

"""Reading the stack's config, once, into :class:`~infra.settings.Settings`.

:func:`parse` turns decoded values into settings (pure: the tests and the offline tools call it);
:func:`load` reads them from the Pulumi runtime through its public API only.

What the engine hands the program, and how (pulumi/pulumi at 1b59498,
``sdk/python/cmd/pulumi-language-python/main.go``): every config value in the ``PULUMI_CONFIG``
environment variable (a JSON object) and the names of the secret keys in
``PULUMI_CONFIG_SECRET_KEYS`` (always set, ``[]`` when none). ``pulumi.runtime.get_config_env``
and ``get_config_secret_keys_env`` are the SDK's public readers of those two.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

import pulumi

from infra import cutover
from infra.config import apps as apps_section
from infra.config import cluster as cluster_section
from infra.config import gateway as gateway_section
from infra.config import registry as registry_section
from infra.config import secrets as secrets_section
from infra.config.reader import Node, choice, match, string
from infra.settings import (
    PROJECT,
    SECRET_SHOWN,
    ConfigError,
    GkeTarget,
    LocalTarget,
    Settings,
    Target,
)

#: Every key of the ``gke-bluegreen`` namespace, in the order Pulumi.yaml declares them.
KEYS = (
    "platform",
    "project",
    "region",
    "kubeContext",
    "cluster",
    "registry",
    "gateway",
    "apps",
    "secrets",
)
#: Keys only the gke platform uses.
GKE_KEYS = ("project", "region", "cluster", "registry", "gateway")
_PLATFORMS = ("gke", "local")

project_id = match(
    re.compile(r"[a-z][a-z0-9-]{4,28}[a-z0-9]"),
    "a GCP project id: 6-30 lower-case letters, digits or '-', starting with a letter",
)


def parse(
    raw: Mapping[str, Any],
    stack: str,
    secrets: object = None,
    lookup: Any = None,
) -> Settings:
    """Builds :class:`Settings` from config values (keys without the ``gke-bluegreen:`` prefix,
    structured values decoded). ``secrets`` is the decoded ``secrets`` object."""
    root = Node("", raw)
    platform = root.require("platform", choice(*_PLATFORMS), "gke or local")
    target: Target
    if platform == "gke":
        project = root.require("project", project_id, "the GCP project id")
        region = root.require("region", cluster_section.region, "the GCP region")
        target = GkeTarget(
            project=project,
            region=region,
            cluster=cluster_section.parse(root.child("cluster"), stack, region),
            registry=registry_section.parse(root.child("registry"), region),
        )
        if root.raw("kubeContext"):
            raise ConfigError(
                "kubeContext", root.data["kubeContext"], "only used by platform local"
            )
    else:
        for key in GKE_KEYS:
            if root.raw(key):
                raise ConfigError(key, root.data[key], "not used on the local platform; remove it")
        target = LocalTarget(kube_context=root.get("kubeContext", string, None) or None)
    apps = apps_section.parse(root.child("apps"))
    if isinstance(target, GkeTarget):
        apps_section.check_digest_pins(apps)
        gateway = gateway_section.parse(root.child("gateway"), target.cluster, apps)
        target = dataclasses.replace(target, gateway=gateway)
    else:
        for app in apps.values():
            if app.strategy == "canary":
                raise ConfigError(
                    f"apps.{app.name}.strategy",
                    app.strategy,
                    "bluegreen on the local platform: a canary splits requests on a GKE Gateway, "
                    "which a local cluster does not have",
                )
    secret_values = secrets_section.parse(secrets, apps, lookup)
    for app in apps.values():
        change = cutover.live_change(app, secret_values.own_colors(app.name))
        if change is not None:
            raise ConfigError(
                change.key,
                change.value,
                f"{change.problem}. Release to the idle color instead (python -m infra.release), "
                f"or set apps.{app.name}.release.allowLiveChange: true",
                secret=change.secret,
            )
    root.done(", ".join(k for k in KEYS if k != "secrets"))
    return Settings(stack=stack, target=target, apps=MappingProxyType(apps), secrets=secret_values)


def gke_project(values: Mapping[str, object]) -> str | None:
    """Where a stack deploys, read before :func:`parse` checks the rest, for the tools that pick
    their checks by it: the GCP project ("" when unset) when its ``platform`` is gke, None when it
    is another. ``values`` are the stack's config by full key, Pulumi.yaml's defaults merged."""
    if values.get(f"{PROJECT}:platform") != "gke":
        return None
    return str(values.get(f"{PROJECT}:project") or "")


def load() -> Settings:
    """Reads the current stack's config and returns validated settings; raises
    :class:`ConfigError` (one line) before any resource is registered."""
    config = pulumi.Config(PROJECT)
    for full in pulumi.runtime.get_config_env():
        if not full.startswith(f"{PROJECT}:"):
            continue
        key = full.split(":", 1)[1]
        if key not in KEYS:
            raise ConfigError(key, "...", f"unknown key; allowed: {', '.join(KEYS)}")
        if is_secret(full) and key != secrets_section.KEY:
            raise ConfigError(
                key,
                SECRET_SHOWN,
                "is marked secret, and only secrets.<app>.<key> may be: set it again without "
                f"--secret, or move the value to {secrets_section.set_command('<app>', '<key>')}",
                secret=True,
            )
    raw: dict[str, Any] = {}
    for key in KEYS:
        value = config.get(key) if key != secrets_section.KEY else None
        if value is not None:
            raw[key] = _decode(key, value)

    secrets_raw: object = None
    if config.get(secrets_section.KEY) not in (None, "{}"):
        if _engine_names_secrets() and not is_secret(f"{PROJECT}:{secrets_section.KEY}"):
            raise ConfigError(
                secrets_section.KEY,
                SECRET_SHOWN,
                "must be set with --secret: " + secrets_section.set_command("<app>", "<key>"),
                secret=True,
            )
        try:
            # The shape only (which apps and keys are set); values leave as secret Outputs.
            secrets_raw = config.get_object(secrets_section.KEY)
        except pulumi.ConfigTypeError:
            raise ConfigError(
                secrets_section.KEY,
                SECRET_SHOWN,
                "expected secrets.<app>.<key> values",
                secret=True,
            ) from None

    def lookup(app: str, key: str, color: str | None) -> pulumi.Output[str]:
        values = config.require_secret_object(secrets_section.KEY)

        def pick(data: Any) -> str:
            scope = data[app] if color is None else data[app][secrets_section.COLORS_KEY][color]
            return secrets_section.as_text(scope[key]) or ""

        return values.apply(pick)

    return parse(raw, pulumi.get_stack(), secrets_raw, lookup)


def is_secret(full_key: str) -> bool:
    """True when the runtime marks ``full_key`` (``gke-bluegreen:x``) secret."""
    return full_key in pulumi.runtime.get_config_secret_keys_env() or (
        pulumi.runtime.is_config_secret(full_key)
    )


def _engine_names_secrets() -> bool:
    """True when the runtime says which keys are secret (the engine always does, ``[]`` when
    none); otherwise nothing is claimed about a key being plain."""
    return "PULUMI_CONFIG_SECRET_KEYS" in os.environ


def _decode(key: str, value: str) -> object:
    """Config values arrive as strings; structured ones (and typed scalars) are JSON."""
    try:
        return json.loads(value)
    except ValueError as err:
        if key in ("cluster", "registry", "gateway", "apps"):
            raise ConfigError(key, value[:40], f"expected a JSON object ({err})") from None
        return value

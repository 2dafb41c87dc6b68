"""Stack configuration, read once and validated into frozen, typed settings.

Components never read ``pulumi.Config``; they receive the :class:`Settings` built here. Every bad
value raises :class:`ConfigError` — one line naming the key, the value and what is allowed —
before any resource is registered, so a typo never leaves a half-applied stack.

Structured values are set the way ``pulumi config set --path`` stores them, e.g.
``pulumi config set --path 'apps.imageview.activeColor' green``. App secrets live under the
separate top-level secret key ``secrets`` (``pulumi config set --secret --path
'secrets.imageview.key' VALUE``) so that non-secret settings never become secret.
"""

from __future__ import annotations

import ipaddress
import json
import os
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any, Literal, TypeVar, cast

import pulumi

from infra.naming import GKE_NAME_MAX, is_dns_label

#: The Pulumi project name; also the config namespace of every key below.
PROJECT = "gke-bluegreen"
#: The two colors of a blue/green app, in a fixed order.
COLORS: tuple[Color, Color] = ("blue", "green")
#: Where app source folders are resolved from (the repository root).
ROOT = Path(__file__).resolve().parent.parent
#: The build context of every app image. An app's ``source`` is a folder below it holding a
#: ``Dockerfile`` and, beside it, its allow-list ``Dockerfile.dockerignore`` (:func:`allow_list`).
APPS = ROOT / "apps"

Color = Literal["blue", "green"]
Platform = Literal["gke", "local"]
RegistryMode = Literal["artifact", "gcr-domain", "legacy-bucket"]
ServiceType = Literal["LoadBalancer", "ClusterIP", "NodePort"]

#: Machine type families GKE node pools accept (x86 and Arm general purpose, compute-,
#: memory- and accelerator-optimized). A typo such as ``n1standard-1`` fails here, not in GCP.
MACHINE_FAMILIES = frozenset(
    "e2 n1 n2 n2d n4 n4d c2 c2d c3 c3d c4 c4a c4d t2a t2d m1 m2 m3 m4 a2 a3 a4 g2 h3 z3".split()  # noqa: SIM905
)
RELEASE_CHANNELS = ("RAPID", "REGULAR", "STABLE", "EXTENDED", "UNSPECIFIED")
#: Artifact Registry multi-region locations (besides every region).
MULTI_REGIONS = ("us", "europe", "asia")

_PROJECT_ID = re.compile(r"^[a-z][a-z0-9-]{4,28}[a-z0-9]$")
_REGION = re.compile(r"^[a-z]+-[a-z]+[0-9]+$")
_ZONE = re.compile(r"^([a-z]+-[a-z]+[0-9]+)-[a-z]$")
_MACHINE_TYPE = re.compile(r"^([a-z][a-z0-9]*)-[a-z0-9-]+$")
_GKE_VERSION = re.compile(r"^1\.\d+(\.\d+(-gke\.\d+)?)?$")
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_CONFIG_KEY = re.compile(r"^[-._a-zA-Z0-9]+$")
_K8S_QUANTITY = re.compile(r"^[0-9]+(\.[0-9]+)?(m|Ki|Mi|Gi|k|M|G)?$")
_IMAGE_REF = re.compile(r"^[a-z0-9]+([._/:@-][a-zA-Z0-9_.-]+)+$")


class ConfigError(pulumi.RunError):
    """A config value is wrong. The message is one line: key, value, what is allowed."""

    def __init__(self, key: str, value: object, allowed: str) -> None:
        self.key = key
        shown = "(unset)" if value is None else json.dumps(value, default=str)
        super().__init__(f"config {key}: {shown} is not valid; {allowed}")


# --------------------------------------------------------------------------- settings types


@dataclass(frozen=True, kw_only=True)
class AuthorizedNetwork:
    """A CIDR block allowed to reach the cluster's control plane."""

    cidr_block: str
    """IPv4 network in CIDR notation, e.g. ``203.0.113.0/24``."""
    display_name: str
    """Label shown in the console."""


@dataclass(frozen=True, kw_only=True)
class ClusterSettings:
    """The GKE cluster and its one managed node pool."""

    name: str
    """Cluster name (GKE: lower-case letters, digits, hyphens; at most 40 characters)."""
    location: str
    """A zone (zonal cluster) or a region (regional cluster, nodes in three zones)."""
    machine_type: str
    """Node machine type, e.g. ``n1-standard-1`` (1 vCPU) or ``e2-standard-2``."""
    node_count: int | None
    """Fixed nodes per zone; ``None`` when autoscaling is set."""
    min_nodes: int | None
    """Autoscaling lower bound per zone, or ``None`` for a fixed size."""
    max_nodes: int | None
    """Autoscaling upper bound per zone, or ``None`` for a fixed size."""
    disk_size_gb: int
    """Boot disk size per node, GiB."""
    spot: bool
    """Spot VMs: much cheaper, may be reclaimed at any time (dev only)."""
    auto_repair: bool
    """GKE recreates unhealthy nodes."""
    auto_upgrade: bool
    """GKE upgrades nodes; required when a release channel is set."""
    release_channel: str
    """RAPID, REGULAR, STABLE, EXTENDED, or UNSPECIFIED (no channel; pin ``version``)."""
    version: str | None
    """Minimum control-plane version (``1.32`` or ``1.32.4-gke.100``), or ``None`` for default."""
    deletion_protection: bool
    """Refuse ``pulumi destroy`` of the cluster."""
    private_nodes: bool
    """Nodes get internal IPs only."""
    master_cidr: str
    """/28 range for the control plane's peering when ``private_nodes``."""
    authorized_networks: tuple[AuthorizedNetwork, ...]
    """When non-empty, only these networks reach the control plane."""

    @property
    def zonal(self) -> bool:
        """True when ``location`` is a zone."""
        return bool(_ZONE.match(self.location))


@dataclass(frozen=True, kw_only=True)
class RegistrySettings:
    """Where images are pushed and who may pull them."""

    mode: RegistryMode
    """``artifact`` (an Artifact Registry Docker repository), ``gcr-domain`` (the ``gcr.io``
    repository that serves ``gcr.io/<project>/...`` today) or ``legacy-bucket`` (the labs'
    Container Registry bucket ACLs on ``artifacts.<project>.appspot.com``)."""
    location: str
    """Artifact Registry location: a region or ``us``/``europe``/``asia``."""
    repository: str
    """Repository id (``gcr.io`` in gcr-domain mode)."""
    public_read: bool
    """Grant ``allUsers`` read. Off unless the stack opts in; never in prod."""
    uniform_bucket_level_access: bool
    """legacy-bucket mode: the bucket uses IAM only, so public read is an IAM grant."""

    def url(self, project: str) -> str:
        """The image name prefix, e.g. ``asia-northeast1-docker.pkg.dev/p/apps``."""
        if self.mode == "artifact":
            return f"{self.location}-docker.pkg.dev/{project}/{self.repository}"
        return f"gcr.io/{project}"

    def host(self, project: str) -> str:
        """The registry host docker logs in to."""
        return self.url(project).split("/", 1)[0]


@dataclass(frozen=True, kw_only=True)
class EnvVar:
    """One container environment variable: a literal value or a ConfigMap/Secret key."""

    name: str
    """Variable name."""
    value: str | None = None
    """Literal value, or ``None`` for a reference."""
    ref_kind: Literal["configMap", "secret"] | None = None
    """What a reference points at: one of the app's ConfigMaps, or its Secret."""
    ref_name: str | None = None
    """The ConfigMap or Secret name as declared (before auto-naming)."""
    key: str | None = None
    """Key within the ConfigMap or Secret."""


@dataclass(frozen=True, kw_only=True)
class ColorSettings:
    """What one color of an app runs."""

    color: Color
    """``blue`` or ``green``."""
    source: Path | None
    """Source folder under ``apps/`` (holds the Dockerfile; the build context is ``apps/``), or
    ``None`` when ``image`` is pinned."""
    image: str | None
    """An existing image reference to run instead of building (keeps a previous release)."""
    replicas: int
    """Pods when this color is live (and when idle unless the app sets ``idleReplicas``)."""
    env: tuple[EnvVar, ...]
    """Container environment, app-level variables overridden by this color's."""
    config_maps: Mapping[str, Mapping[str, str]]
    """This color's snapshot of every ConfigMap: app-level data merged with color overrides."""


@dataclass(frozen=True, kw_only=True)
class ServiceSettings:
    """How an app is exposed."""

    name: str
    """Name of the live Service (S4: ``webserver``)."""
    type: ServiceType
    """LoadBalancer (public), NodePort or ClusterIP."""
    port: int
    """Port the Service listens on (S4: 80)."""
    preview_name: str
    """Name of the ClusterIP Service that selects the idle color."""


@dataclass(frozen=True, kw_only=True)
class ResourceSettings:
    """Container resource requests and limits (Kubernetes quantities)."""

    cpu_request: str
    """CPU reserved per pod, e.g. ``50m``."""
    memory_request: str
    """Memory reserved per pod, e.g. ``64Mi``."""
    cpu_limit: str
    """CPU cap per pod."""
    memory_limit: str
    """Memory cap per pod; the container is killed above it."""


@dataclass(frozen=True, kw_only=True)
class SecretSpec:
    """The app's Secret: its name and the keys it must hold (values come from ``secrets``)."""

    name: str
    """Name as the app's manifests know it (S4: ``apikey``)."""
    keys: tuple[str, ...]
    """Required keys (S4: ``id``, ``key``)."""


@dataclass(frozen=True, kw_only=True)
class AppSettings:
    """One blue/green app."""

    name: str
    """App name; also the ``app`` label and the key under ``apps``."""
    type_label: str
    """The ``type`` label (S4: ``webserver``)."""
    deployment_prefix: str
    """Deployments are ``<prefix>-blue`` and ``<prefix>-green`` (S4: ``webserver``)."""
    container_name: str
    """Container name (S4: ``webserver-container``)."""
    container_port: int
    """Port the app listens on inside the pod (≥ 1024: it runs as non-root, no capabilities)."""
    port_name: str
    """Name of the container port (S4: ``http-server``)."""
    active_color: Color
    """The color the live Service selects."""
    idle_replicas: int | None
    """Replicas of the idle color, or ``None`` to keep it at its full size."""
    colors: Mapping[Color, ColorSettings]
    """Per-color settings, keyed ``blue`` and ``green``."""
    secret: SecretSpec | None
    """The app's Secret, if it has one."""
    service: ServiceSettings
    """Live and preview Services."""
    resources: ResourceSettings
    """Requests and limits of the app container."""
    readiness_path: str
    """HTTP path of the readiness probe."""
    liveness_path: str
    """HTTP path of the liveness probe."""
    drain_seconds: int
    """preStop pause: the pod keeps serving while endpoints drop it."""
    termination_grace_seconds: int
    """Upper bound for drain + the app's own shutdown."""
    run_as_user: int
    """Numeric non-root UID (and GID) the container runs as."""

    @property
    def idle_color(self) -> Color:
        """The color the live Service does not select."""
        return "green" if self.active_color == "blue" else "blue"

    def replicas_of(self, color: Color) -> int:
        """Replicas of ``color`` given which color is live."""
        if color != self.active_color and self.idle_replicas is not None:
            return self.idle_replicas
        return self.colors[color].replicas


@dataclass(frozen=True, kw_only=True)
class Settings:
    """Everything the program needs, validated."""

    stack: str
    """Stack name."""
    platform: Platform
    """``gke`` (GCP) or ``local`` (current kubeconfig context, no GCP resources)."""
    project: str | None
    """GCP project id (``None`` on the local platform)."""
    region: str | None
    """GCP region (``None`` on the local platform)."""
    cluster: ClusterSettings | None
    """The cluster (``None`` on the local platform)."""
    registry: RegistrySettings | None
    """The registry (``None`` on the local platform: images stay on the local engine)."""
    kube_context: str | None
    """local platform: kubeconfig context to use (``None``: the current one)."""
    apps: Mapping[str, AppSettings]
    """Apps by name, in config order."""
    secrets: SecretValues
    """Secret values per app and key; they leave only as secret Outputs."""


class SecretValues:
    """App secret values. Never printed (``repr`` hides them); :meth:`outputs` hands them out
    wrapped by ``Output.secret``, made when the program asks, inside a Pulumi run."""

    def __init__(self, values: Mapping[str, Mapping[str, str]]) -> None:
        self.__values = {app: dict(keys) for app, keys in values.items()}

    def __repr__(self) -> str:
        keys = {app: sorted(v) for app, v in self.__values.items()}
        return f"SecretValues({keys}, values hidden)"

    def keys_of(self, app: str) -> tuple[str, ...]:
        """Which keys are set for ``app``."""
        return tuple(self.__values.get(app, {}))

    def outputs(self, app: str) -> dict[str, pulumi.Output[str]] | None:
        """The app's values as secret Outputs, or ``None`` when the app has no secret."""
        if app not in self.__values:
            return None
        return {k: pulumi.Output.secret(v) for k, v in self.__values[app].items()}


# --------------------------------------------------------------------------- reading helpers

T = TypeVar("T")


class _Node:
    """A config object being read: tracks its dotted path and which keys were consumed."""

    def __init__(self, path: str, value: object) -> None:
        if value is None:
            value = {}
        if not isinstance(value, Mapping):
            raise ConfigError(path, value, "expected an object (set keys with --path)")
        self.path = path
        self.data: Mapping[str, object] = value
        self._used: set[str] = set()

    def key(self, name: str) -> str:
        return f"{self.path}.{name}" if self.path else name

    def raw(self, name: str) -> object:
        self._used.add(name)
        return self.data.get(name)

    def child(self, name: str) -> _Node:
        return _Node(self.key(name), self.raw(name))

    def get(self, name: str, conv: Callable[[str, object], T], default: T) -> T:
        value = self.raw(name)
        return default if value is None else conv(self.key(name), value)

    def require(self, name: str, conv: Callable[[str, object], T], what: str) -> T:
        value = self.raw(name)
        if value is None:
            raise ConfigError(self.key(name), None, f"it is required: {what}")
        return conv(self.key(name), value)

    def items(self) -> Iterator[tuple[str, object]]:
        for name in self.data:
            self._used.add(name)
            yield name, self.data[name]

    def only(self, *names: str) -> _Node:
        """Fails now, before reading anything, when a key outside ``names`` is set."""
        for name in self.data:
            if name not in names:
                raise ConfigError(
                    self.key(name), self.data[name], f"unknown key; allowed: {', '.join(names)}"
                )
        return self

    def done(self, allowed: str | None = None) -> None:
        unknown = sorted(set(self.data) - self._used)
        if unknown:
            keys = allowed or ", ".join(sorted(self._used))
            raise ConfigError(
                self.key(unknown[0]), self.data[unknown[0]], f"unknown key; allowed: {keys}"
            )


def _str(key: str, value: object) -> str:
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise ConfigError(key, value, "expected a string")
    return str(value)


def _int_in(lo: int, hi: int) -> Callable[[str, object], int]:
    def conv(key: str, value: object) -> int:
        number: int | None = None
        if isinstance(value, int) and not isinstance(value, bool):
            number = value
        elif (isinstance(value, float) and value.is_integer()) or (
            isinstance(value, str) and re.fullmatch(r"-?[0-9]+", value.strip())
        ):
            number = int(value)
        if number is None or not lo <= number <= hi:
            raise ConfigError(key, value, f"expected a whole number from {lo} to {hi}")
        return number

    return conv


def _bool(key: str, value: object) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise ConfigError(key, value, "expected true or false")


def _choice(*allowed: str) -> Callable[[str, object], str]:
    def conv(key: str, value: object) -> str:
        if value not in allowed:
            raise ConfigError(key, value, f"allowed: {', '.join(allowed)}")
        return str(value)

    return conv


def _match(pattern: re.Pattern[str], what: str) -> Callable[[str, object], str]:
    def conv(key: str, value: object) -> str:
        text = _str(key, value)
        if not pattern.match(text):
            raise ConfigError(key, value, what)
        return text

    return conv


def _dns_label(max_len: int) -> Callable[[str, object], str]:
    def conv(key: str, value: object) -> str:
        text = _str(key, value)
        if not is_dns_label(text, max_len):
            raise ConfigError(
                key,
                value,
                f"use lower-case letters, digits and '-', start with a letter, "
                f"at most {max_len} characters",
            )
        return text

    return conv


def _path(key: str, value: object) -> str:
    text = _str(key, value)
    if not text.startswith("/") or " " in text:
        raise ConfigError(key, value, "expected an absolute URL path such as /readyz")
    return text


_quantity = _match(_K8S_QUANTITY, "expected a Kubernetes quantity such as 100m, 0.5, 64Mi, 1Gi")
_image = _match(_IMAGE_REF, "an image reference such as registry/name@sha256:<digest>")
_project_id = _match(
    _PROJECT_ID, "a GCP project id: 6-30 lower-case letters, digits or '-', starting with a letter"
)
_region = _match(_REGION, "a GCP region such as asia-northeast1 or us-central1")


# --------------------------------------------------------------------------- sections


def _cluster(node: _Node, stack: str, region: str) -> ClusterSettings:
    name = node.get("name", _dns_label(GKE_NAME_MAX), stack)
    zone = node.get("zone", _match(_ZONE, "a GCP zone such as asia-northeast1-a"), None)
    if zone is not None and not zone.startswith(f"{region}-"):
        raise ConfigError(node.key("zone"), zone, f"the zone must be in region {region}")

    machine_type = node.get("machineType", _str, "e2-standard-2")
    family = _MACHINE_TYPE.match(machine_type)
    if not family or family.group(1) not in MACHINE_FAMILIES:
        raise ConfigError(
            node.key("machineType"),
            machine_type,
            f"use a GKE machine type such as n1-standard-1 or e2-standard-2; "
            f"known families: {', '.join(sorted(MACHINE_FAMILIES))}",
        )

    node_count = node.get("nodeCount", _int_in(1, 1000), None)
    scaling = node.child("autoscaling")
    min_nodes = scaling.get("minNodes", _int_in(0, 1000), None)
    max_nodes = scaling.get("maxNodes", _int_in(1, 1000), None)
    scaling.done("minNodes, maxNodes")
    if (min_nodes is None) != (max_nodes is None):
        raise ConfigError(scaling.path, scaling.data, "set both minNodes and maxNodes")
    if min_nodes is not None and max_nodes is not None:
        if node_count is not None:
            raise ConfigError(
                node.key("nodeCount"), node_count, "set either nodeCount or autoscaling, not both"
            )
        if min_nodes > max_nodes:
            raise ConfigError(
                scaling.key("minNodes"), min_nodes, f"must not exceed maxNodes ({max_nodes})"
            )
    elif node_count is None:
        node_count = 1

    auto_upgrade = node.get("autoUpgrade", _bool, True)
    channel = node.get("releaseChannel", _choice(*RELEASE_CHANNELS), "REGULAR")
    if channel != "UNSPECIFIED" and not auto_upgrade:
        raise ConfigError(
            node.key("releaseChannel"),
            channel,
            "GKE requires node auto-upgrade in a release channel; with "
            "autoUpgrade false use UNSPECIFIED and pin version",
        )

    private = node.get("privateNodes", _bool, False)
    master_cidr = node.get("masterCidr", _str, "172.16.0.0/28")
    try:
        net = ipaddress.ip_network(master_cidr)
        if net.prefixlen != 28 or net.version != 4 or not net.is_private:
            raise ValueError
    except ValueError:
        raise ConfigError(
            node.key("masterCidr"), master_cidr, "expected a private IPv4 /28 such as 172.16.0.0/28"
        ) from None

    networks: list[AuthorizedNetwork] = []
    raw_networks = node.raw("authorizedNetworks") or []
    if not isinstance(raw_networks, list):
        raise ConfigError(
            node.key("authorizedNetworks"),
            raw_networks,
            "expected a list of {cidrBlock, displayName}",
        )
    for i, item in enumerate(raw_networks):
        entry = _Node(node.key(f"authorizedNetworks[{i}]"), item)
        cidr = entry.require("cidrBlock", _str, "an IPv4 CIDR such as 203.0.113.0/24")
        try:
            ipaddress.IPv4Network(cidr)
        except ValueError:
            raise ConfigError(
                entry.key("cidrBlock"), cidr, "expected an IPv4 CIDR such as 203.0.113.0/24"
            ) from None
        networks.append(
            AuthorizedNetwork(cidr_block=cidr, display_name=entry.get("displayName", _str, cidr))
        )
        entry.done("cidrBlock, displayName")

    settings = ClusterSettings(
        name=name,
        location=zone or region,
        machine_type=machine_type,
        node_count=node_count,
        min_nodes=min_nodes,
        max_nodes=max_nodes,
        disk_size_gb=node.get("diskSizeGb", _int_in(10, 65536), 50),
        spot=node.get("spot", _bool, False),
        auto_repair=node.get("autoRepair", _bool, True),
        auto_upgrade=auto_upgrade,
        release_channel=channel,
        version=node.get(
            "version",
            _match(_GKE_VERSION, "a GKE version such as 1.32 or 1.32.4-gke.1106000"),
            None,
        ),
        deletion_protection=node.get("deletionProtection", _bool, True),
        private_nodes=private,
        master_cidr=master_cidr,
        authorized_networks=tuple(networks),
    )
    node.done()
    return settings


def _registry(node: _Node, region: str) -> RegistrySettings:
    mode = cast(
        RegistryMode,
        node.get("mode", _choice("artifact", "gcr-domain", "legacy-bucket"), "artifact"),
    )
    default_location = region if mode == "artifact" else "us"
    location = node.get("location", _str, default_location)
    if location not in MULTI_REGIONS and not _REGION.match(location):
        raise ConfigError(
            node.key("location"),
            location,
            "a region such as asia-northeast1, or one of us, europe, asia",
        )
    repository = node.get("repository", _dns_label(63), "apps")
    ubla = node.get("uniformBucketLevelAccess", _bool, False)
    if ubla and mode != "legacy-bucket":
        raise ConfigError(
            node.key("uniformBucketLevelAccess"), ubla, "only applies to mode legacy-bucket"
        )
    settings = RegistrySettings(
        mode=mode,
        location=location,
        repository="gcr.io" if mode != "artifact" else repository,
        public_read=node.get("publicRead", _bool, False),
        uniform_bucket_level_access=ubla,
    )
    node.done()
    return settings


def _env(node: _Node) -> dict[str, EnvVar]:
    """Reads ``{NAME: value | {configMapKeyRef: {name, key}} | {secretKeyRef: {name, key}}}``."""
    result: dict[str, EnvVar] = {}
    for name, value in node.items():
        key = node.key(name)
        if not _ENV_NAME.match(name):
            raise ConfigError(key, value, "an environment variable name: letters, digits, '_'")
        if isinstance(value, Mapping):
            ref = _Node(key, value)
            cm = ref.child("configMapKeyRef")
            sec = ref.child("secretKeyRef")
            ref.done("configMapKeyRef, secretKeyRef")
            chosen = cm if cm.data else sec
            if bool(cm.data) == bool(sec.data):
                raise ConfigError(key, value, "set exactly one of configMapKeyRef, secretKeyRef")
            ref_name = chosen.require("name", _str, "the ConfigMap or Secret name")
            ref_key = chosen.require("key", _str, "the key within it")
            chosen.done("name, key")
            kind: Literal["configMap", "secret"] = "secret" if chosen is sec else "configMap"
            result[name] = EnvVar(name=name, ref_kind=kind, ref_name=ref_name, key=ref_key)
        else:
            result[name] = EnvVar(name=name, value=_str(key, value))
    return result


def _config_maps(node: _Node) -> dict[str, dict[str, str]]:
    maps: dict[str, dict[str, str]] = {}
    for cm_name, data in node.items():
        cm = _Node(node.key(cm_name), data)
        if not is_dns_label(cm_name, 40):
            raise ConfigError(cm.path, cm_name, "a ConfigMap name: lower-case DNS label, ≤ 40")
        entries: dict[str, str] = {}
        for k, v in cm.items():
            if not _CONFIG_KEY.match(k):
                raise ConfigError(cm.key(k), v, "a ConfigMap key: letters, digits, '-', '_', '.'")
            entries[k] = _str(cm.key(k), v)
        maps[cm_name] = entries
    return maps


def allow_list(source: Path, apps: Path = APPS) -> tuple[str, ...]:
    """The paths (relative to ``apps``, the build context) that ``source``'s
    ``Dockerfile.dockerignore`` admits into its image build.

    The file must be an allow-list: a deny-all ``*`` first, then ``!<path>`` lines that each name
    an existing file or folder literally (no wildcards, no ``..``), so what an image is built from
    can be read off it (the content tag hashes exactly that). Anything else raises
    :class:`ValueError` naming the file and the line.
    """
    ignore = source / "Dockerfile.dockerignore"
    shown = ignore.relative_to(apps).as_posix() if ignore.is_relative_to(apps) else str(ignore)
    if not ignore.is_file():
        raise ValueError(f"{shown} is missing")
    entries = [
        line.strip()
        for line in ignore.read_text().splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]
    if entries[:1] != ["*"]:
        raise ValueError(f"{shown} must start with '*' (deny all), then '!<path>' lines")
    paths: list[str] = []
    for entry in entries[1:]:
        path = entry.removeprefix("!")
        wildcard = bool(set(path) & set("*?[]\\"))
        if path in (entry, "") or wildcard or path.startswith("/") or ".." in path.split("/"):
            raise ValueError(f"{shown}: {entry!r} is not '!<path>' with a literal path under apps/")
        if not (apps / path).exists():
            raise ValueError(f"{shown}: {entry!r} names nothing under apps/")
        paths.append(path.rstrip("/"))
    return tuple(paths)


def _source(key: str, value: object) -> Path:
    rel = _str(key, value)
    folder = (ROOT / rel).resolve()
    allowed = "a folder under apps/ that holds a Dockerfile and its Dockerfile.dockerignore"
    if not folder.is_relative_to(APPS) or not (folder / "Dockerfile").is_file():
        raise ConfigError(key, value, allowed)
    try:
        allow_list(folder, APPS)
    except ValueError as err:
        raise ConfigError(key, value, f"{allowed} allow-list; {err}") from None
    return folder


def _app(name: str, node: _Node) -> AppSettings:
    if not is_dns_label(name, 40):
        raise ConfigError(node.path, name, "an app name: lower-case DNS label, at most 40")
    type_label = node.get("type", _dns_label(63), name)
    prefix = node.get("deploymentName", _dns_label(56), name)
    app_source = node.get("source", _source, None)
    app_env = _env(node.child("env"))
    app_maps = _config_maps(node.child("configMaps"))
    replicas = node.get("replicas", _int_in(0, 1000), 1)

    secret_node = node.child("secret")
    secret: SecretSpec | None = None
    if secret_node.data:
        keys = secret_node.raw("keys")
        if (
            not isinstance(keys, list)
            or not keys
            or not all(isinstance(k, str) and _CONFIG_KEY.match(k) for k in keys)
        ):
            raise ConfigError(secret_node.key("keys"), keys, "a non-empty list of key names")
        secret = SecretSpec(
            name=secret_node.require("name", _dns_label(40), "the Secret name"), keys=tuple(keys)
        )
        secret_node.done("name, keys")

    colors: dict[Color, ColorSettings] = {}
    colors_node = node.child("colors").only(*COLORS)
    for color in COLORS:
        cnode = colors_node.child(color)
        source = cnode.get("source", _source, None)
        image = cnode.get("image", _image, None)
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
        env = {**app_env, **_env(cnode.child("env"))}
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
        for var in env.values():
            _check_ref(f"apps.{name}", color, var, snapshot, secret)
        colors[color] = ColorSettings(
            color=color,
            source=source,
            image=image,
            replicas=cnode.get("replicas", _int_in(0, 1000), replicas),
            env=tuple(env.values()),
            config_maps=MappingProxyType(snapshot),
        )
        cnode.done("source, image, replicas, env, configMaps")
    colors_node.done("blue, green")

    service_node = node.child("service")
    service_name = service_node.get("name", _dns_label(55), name)
    service = ServiceSettings(
        name=service_name,
        type=cast(
            ServiceType,
            service_node.get("type", _choice("LoadBalancer", "ClusterIP", "NodePort"), "ClusterIP"),
        ),
        port=service_node.get("port", _int_in(1, 65535), 80),
        preview_name=service_node.get("previewName", _dns_label(63), f"{service_name}-preview"),
    )
    service_node.done("name, type, port, previewName")

    res = node.child("resources")
    resources = ResourceSettings(
        cpu_request=res.get("cpuRequest", _quantity, "50m"),
        memory_request=res.get("memoryRequest", _quantity, "64Mi"),
        cpu_limit=res.get("cpuLimit", _quantity, "500m"),
        memory_limit=res.get("memoryLimit", _quantity, "128Mi"),
    )
    res.done("cpuRequest, memoryRequest, cpuLimit, memoryLimit")

    drain = node.get("drainSeconds", _int_in(0, 300), 5)
    grace = node.get("terminationGracePeriodSeconds", _int_in(1, 3600), 30)
    if grace <= drain:
        raise ConfigError(
            node.key("terminationGracePeriodSeconds"),
            grace,
            f"must exceed drainSeconds ({drain}) so the app can shut down",
        )
    idle = node.get("idleReplicas", _int_in(0, 1000), None)
    settings = AppSettings(
        name=name,
        type_label=type_label,
        deployment_prefix=prefix,
        container_name=node.get("containerName", _dns_label(63), name),
        container_port=node.get("containerPort", _int_in(1024, 65535), 8080),
        port_name=node.get("portName", _dns_label(15), "http"),
        active_color=cast(Color, node.get("activeColor", _choice(*COLORS), "blue")),
        idle_replicas=idle,
        colors=MappingProxyType(colors),
        secret=secret,
        service=service,
        resources=resources,
        readiness_path=node.get("readinessPath", _path, "/readyz"),
        liveness_path=node.get("livenessPath", _path, "/healthz"),
        drain_seconds=drain,
        termination_grace_seconds=grace,
        run_as_user=node.get("runAsUser", _int_in(1, 2**31 - 1), 10001),
    )
    node.done()
    return settings


def _check_ref(
    path: str,
    color: str,
    var: EnvVar,
    maps: Mapping[str, Mapping[str, str]],
    secret: SecretSpec | None,
) -> None:
    """An env reference must name a ConfigMap/Secret key the app declares."""
    if var.value is not None:
        return
    key = f"{path}.env.{var.name}"
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


def _secrets(raw: object, apps: Mapping[str, AppSettings]) -> SecretValues:
    if raw is not None and not isinstance(raw, Mapping):
        # Never echo the value: it is a secret, even when it has the wrong shape.
        raise ConfigError("secrets", "[secret]", "expected secrets.<app>.<key> values (--path)")
    node = _Node("secrets", raw)
    values: dict[str, dict[str, str]] = {}
    for app_name, data in node.items():
        if app_name not in apps:
            raise ConfigError(
                f"secrets.{app_name}", "[secret]", f"no such app; apps: {', '.join(apps)}"
            )
        if not isinstance(data, Mapping):
            raise ConfigError(f"secrets.{app_name}", "[secret]", "expected an object of keys")
    for app in apps.values():
        if app.secret is None:
            if app.name in node.data:
                raise ConfigError(
                    f"secrets.{app.name}", "[secret]", f"apps.{app.name} declares no secret"
                )
            continue
        data = cast(Mapping[str, object], node.data.get(app.name) or {})
        extra = sorted(set(data) - set(app.secret.keys))
        if extra:
            raise ConfigError(
                f"secrets.{app.name}.{extra[0]}",
                "[secret]",
                f"allowed keys: {', '.join(app.secret.keys)}",
            )
        values[app.name] = {}
        for k in app.secret.keys:
            v = data.get(k)
            if not isinstance(v, str) or not v:
                raise ConfigError(
                    f"secrets.{app.name}.{k}",
                    None,
                    "set it with: pulumi config set --secret --path "
                    f"'secrets.{app.name}.{k}' VALUE",
                )
            values[app.name][k] = v
    return SecretValues(values)


# --------------------------------------------------------------------------- entry points


def parse(raw: Mapping[str, Any], stack: str, secrets: object = None) -> Settings:
    """Builds :class:`Settings` from config values (keys without the ``gke-bluegreen:`` prefix,
    structured values already decoded). ``secrets`` is the decoded ``secrets`` object."""
    root = _Node("", raw)
    platform = cast(Platform, root.get("platform", _choice("gke", "local"), "gke"))
    project = region = None
    cluster = registry = None
    kube_context = None
    if platform == "gke":
        project = root.require("project", _project_id, "the GCP project id")
        region = root.require("region", _region, "the GCP region, e.g. asia-northeast1")
        cluster = _cluster(root.child("cluster"), stack, region)
        registry = _registry(root.child("registry"), region)
    else:
        for key in ("project", "region", "cluster", "registry"):
            if root.raw(key) is not None:
                raise ConfigError(key, root.data[key], "not used on the local platform; remove it")
        kube_context = root.get("kubeContext", _str, None)

    apps_node = root.child("apps")
    if not apps_node.data:
        raise ConfigError("apps", None, "declare at least one app under apps.<name>")
    apps = {
        name: _app(name, _Node(apps_node.key(name), value)) for name, value in apps_node.items()
    }
    names: dict[str, str] = {}
    for app in apps.values():
        # ConfigMaps and the Secret are auto-named from "<name>-<color>", so they too must be
        # unique across apps.
        for obj in (
            app.service.name,
            app.service.preview_name,
            *(f"{app.deployment_prefix}-{c}" for c in COLORS),
            *(f"configmap {cm}" for cm in app.colors["blue"].config_maps),
            *([f"secret {app.secret.name}"] if app.secret else []),
        ):
            if obj in names:
                raise ConfigError(
                    f"apps.{app.name}",
                    obj,
                    f"object name already used by app {names[obj]}; names must be "
                    "unique across apps",
                )
            names[obj] = app.name

    secret_values = _secrets(secrets, apps)
    root.done("platform, project, region, cluster, registry, kubeContext, apps")
    return Settings(
        stack=stack,
        platform=platform,
        project=project,
        region=region,
        cluster=cluster,
        registry=registry,
        kube_context=kube_context,
        apps=MappingProxyType(apps),
        secrets=secret_values,
    )


def load() -> Settings:
    """Reads the current stack's config and returns validated settings.

    Reads raw values so that the ``secrets`` key is decoded without Pulumi's "secret read as
    plain" warning; its values only ever leave this module wrapped by ``Output.secret``.
    """
    raw: dict[str, Any] = {}
    keys = ("platform", "project", "region", "cluster", "registry", "kubeContext", "apps")
    for key in keys:
        value = pulumi.runtime.get_config(f"{PROJECT}:{key}")
        if value is not None:
            raw[key] = _decode(value)
    unexpected = [
        k
        for k in _all_config_keys()
        if k.startswith(f"{PROJECT}:") and k.split(":", 1)[1] not in (*keys, "secrets")
    ]
    if unexpected:
        raise ConfigError(
            unexpected[0].split(":", 1)[1],
            "...",
            f"unknown key; allowed: {', '.join(keys)}, secrets",
        )
    secret_key = f"{PROJECT}:secrets"
    secrets = pulumi.runtime.get_config(secret_key)
    if secrets is not None and _known_plain(secret_key):
        raise ConfigError(
            "secrets",
            "[not shown]",
            "must be set with --secret: pulumi config set --secret --path "
            "'secrets.<app>.<key>' VALUE",
        )
    return parse(raw, pulumi.get_stack(), _decode(secrets) if secrets is not None else None)


def _known_plain(key: str) -> bool:
    """True when the runtime says which config keys are secret and ``key`` is not one of them.

    The engine passes the secret keys to the program (``PULUMI_CONFIG_SECRET_KEYS``); mocks and
    the automation API set them directly. When neither says anything, nothing is claimed.
    """
    from pulumi.runtime.config import _SECRET_KEYS  # noqa: PLC0415

    known = set(_SECRET_KEYS.get()) | set(pulumi.runtime.get_config_secret_keys_env())
    told = bool(known) or "PULUMI_CONFIG_SECRET_KEYS" in os.environ
    return told and key not in known


def _decode(value: object) -> object:
    """Config values arrive as strings; structured ones are JSON."""
    if isinstance(value, str):
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            return value
    return value


def _all_config_keys() -> list[str]:
    from pulumi.runtime.config import CONFIG, get_config_env  # noqa: PLC0415

    return [*CONFIG.get().keys(), *get_config_env().keys()]

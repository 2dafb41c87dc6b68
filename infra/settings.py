"""The validated settings of one stack: frozen, keyword-only types and the one error a bad value
raises. Nothing here reads config or registers resources (that is :mod:`infra.config`); every other
layer imports these types.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import pulumi

#: The Pulumi project name; also the config namespace of every key.
PROJECT = "gke-bluegreen"

Color = Literal["blue", "green"]
#: The two colors of a blue/green app, in a fixed order.
COLORS: tuple[Color, Color] = ("blue", "green")
RegistryMode = Literal["artifact", "gcr-domain", "legacy-bucket"]
ServiceType = Literal["LoadBalancer", "ClusterIP", "NodePort"]
#: How an app releases: ``bluegreen`` moves every request at once (the live Service's selector),
#: ``canary`` moves a share of the requests in steps (an HTTPRoute's weights on the GKE Gateway).
Strategy = Literal["bluegreen", "canary"]
#: The GKE GatewayClasses a canary can use: single-cluster classes whose load balancer splits
#: requests by ``weight`` (infra/config/gateway.py says where each is documented).
GatewayClassName = Literal[
    "gke-l7-global-external-managed", "gke-l7-regional-external-managed", "gke-l7-rilb"
]

#: What every tool shows in place of a secret value (errors, renders, outputs).
SECRET_SHOWN = "[secret]"  # noqa: S105 - the placeholder shown, not a password
#: How much of a bad value an error line shows.
_SHOWN_MAX = 80
#: The longest key an error line shows whole.
_KEY_MAX = 160


class ConfigError(pulumi.RunError):
    """A config value is wrong. The message is one line: key, value, what is allowed.

    ``secret=True`` (any value read from a secret key) never shows the value, not even a wrong one.
    """

    def __init__(self, key: str, value: object, allowed: str, *, secret: bool = False) -> None:
        self.key = key
        shown = ("(unset)" if value is None else SECRET_SHOWN) if secret else show(value)
        super().__init__(f"config {printable(key)}: {shown} is not valid; {allowed}")


def printable(text: str) -> str:
    """``text`` with control characters escaped (``\\n``) and a long text cut, so a message stays
    one bounded line (a key is typed by the user too: a 5,000-character map key is still one)."""
    text = re.sub(r"[\x00-\x1f\x7f-\x9f]", lambda m: json.dumps(m.group())[1:-1], text)
    if len(text) > _KEY_MAX:
        text = f"{text[: _KEY_MAX - 20]}... ({len(text)} characters)"
    return text


def show(value: object) -> str:
    """``value`` as one bounded line: JSON, long text cut, huge numbers described, never a
    traceback (Python refuses to print integers of more than 4,300 digits)."""
    if value is None:
        return "(unset)"
    try:
        text = json.dumps(_bounded(value), default=str, ensure_ascii=True)
    except (ValueError, TypeError):
        text = f"(a {type(value).__name__} that cannot be shown)"
    if len(text) > _SHOWN_MAX:
        text = f"{text[: _SHOWN_MAX - 20]}... ({len(text)} characters)"
    return text


def _bounded(value: object, depth: int = 0) -> object:
    """``value`` cut to what one error line can show: huge numbers summarised, containers cut to
    8 items and 4 levels."""
    if isinstance(value, int) and not isinstance(value, bool):
        digits = math.floor(abs(value).bit_length() * math.log10(2)) + 1
        return value if digits <= 30 else f"(a number of about {digits} digits)"
    if value is None or isinstance(value, bool | float | str):
        return value
    if depth > 3:
        return "..."
    if isinstance(value, Mapping):
        return {str(k)[:_SHOWN_MAX]: _bounded(v, depth + 1) for k, v in list(value.items())[:8]}
    if isinstance(value, list | tuple):
        return [_bounded(v, depth + 1) for v in value[:8]]
    return str(value)


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
    zonal: bool
    """True when ``location`` is a zone."""
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


@dataclass(frozen=True, kw_only=True)
class RegistrySettings:
    """Where images are pushed and who may pull them."""

    mode: RegistryMode
    """``artifact`` (an Artifact Registry Docker repository), ``gcr-domain`` (the ``gcr.io``
    repository that serves ``gcr.io/<project>/...``) or ``legacy-bucket`` (the labs'
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
class SmokeSettings:
    """The smoke check a color must pass before the live Service selects it (a Kubernetes Job
    that requests the readiness path, then ``path``, through the color's own Service)."""

    enabled: bool
    """Run it (the live Service then waits for it)."""
    path: str
    """HTTP path requested after the readiness path answers 200, e.g. ``/``."""
    status: int
    """Status ``path`` must answer."""
    text: str
    """Text the body must contain ("" for any)."""
    attempts: int
    """Tries before the check fails (a color that is still warming up gets them all)."""
    interval_seconds: int
    """Pause between tries."""
    timeout_seconds: int
    """Per request."""
    deadline_seconds: int
    """Upper bound of the whole Job (``activeDeadlineSeconds``)."""
    image: str | None
    """The smoke client's image, pinned (an existing reference, by digest on GKE); ``None``: the
    one the stack builds from ``apps/smoke``."""


@dataclass(frozen=True, kw_only=True)
class ColorPin:
    """What one color runs, as the release tool recorded it."""

    color: Color
    """The color."""
    image: str
    """The image it runs: a reference by digest, or ``src-<hash>``, the content tag of the
    folder it builds from (a candidate not pushed yet)."""
    config: str
    """Digest of its config snapshot (:func:`infra.cutover.snapshot_digest`)."""


@dataclass(frozen=True, kw_only=True)
class ReleaseRecord:
    """``apps.<app>.release``, kept by ``python -m infra.release``: what serves traffic, so the
    program can refuse any update that would change it in place."""

    live: ColorPin | None
    """The color serving traffic and what it runs; ``None`` before the first release."""
    candidate: ColorPin | None
    """The idle color being released (``start``) and what it was when it started: the only
    color traffic may move to."""
    previous: ColorPin | None
    """The color that served before the last promote, kept unchanged for a rollback until
    ``finish``."""
    allow_live_change: bool
    """The stack deliberately allows changing the live color in place (an emergency fix)."""
    weight: int = 0
    """A canary app's share of requests, in percent, that its HTTPRoute sends to the candidate
    (the rest goes to the live color); 0 at rest and on a blue/green app. Written by the release
    tool only: changing it changes the route and nothing else."""


@dataclass(frozen=True, kw_only=True)
class CanaryAnalysis:
    """The limits the release tool judges each step of a canary by (from the load balancer's own
    metrics, per color, over the last ``window_seconds``)."""

    window_seconds: int
    """How much of the most recent traffic each judgement looks at."""
    min_requests: int
    """Fewer candidate requests than this in the window: inconclusive (hold, never promote)."""
    max_5xx_ratio: float
    """Highest share of the candidate's answers that may be 5xx (0.01: 1 %)."""
    max_p95_ms: int
    """Highest 95th-percentile latency of the candidate, in milliseconds."""
    max_p95_vs_live: float
    """Highest candidate p95 latency as a multiple of the live color's in the same window."""


@dataclass(frozen=True, kw_only=True)
class CanarySettings:
    """``apps.<app>.canary``: how a canary release of the app moves traffic and is judged."""

    plan: tuple[int, ...]
    """The candidate's weights, in percent, step by step: strictly increasing, ending at 100."""
    pause_seconds: int
    """How long each step holds while the analysis runs (at least one analysis window)."""
    tester_header: str
    """Requests carrying this header with the value :data:`TESTER_VALUE` always reach the
    candidate (the idle color when no release runs), whatever the weights."""
    hostnames: tuple[str, ...]
    """Host names the app's HTTPRoute answers for; empty: every host (one such app per
    Gateway)."""
    analysis: CanaryAnalysis
    """The limits each step is judged by."""


#: The value of the tester header that sends a request to the candidate. An exact value, not the
#: header's mere presence: Gateway API matches a header by value (``Exact``, Core support) or by
#: regular expression (implementation-specific support), and only an exact match is certain to be
#: accepted by every GatewayClass (vendor/gateway-api/v1.4.1, ``HTTPHeaderMatch.type``).
TESTER_VALUE = "candidate"


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
    smoke: SmokeSettings
    """The check a color passes before it goes live."""
    scale_down_delay_seconds: int
    """After a cutover, how long the previous color keeps its pods before ``idleReplicas``
    scales it down (in-flight requests and load balancers still reaching it drain meanwhile)."""
    release: ReleaseRecord
    """What the release tool recorded as live."""
    strategy: Strategy = "bluegreen"
    """How a release moves traffic: all at once (the live Service) or in steps (the Gateway)."""
    canary: CanarySettings | None = None
    """The canary's plan and limits; set exactly when ``strategy`` is ``canary``."""


@dataclass(frozen=True, kw_only=True)
class GatewaySettings:
    """``gateway``: the one GKE Gateway of a stack whose apps include a canary."""

    class_name: GatewayClassName
    """The GatewayClass: which Google Cloud load balancer GKE builds for it."""
    address_name: str
    """Name of the static IP address reserved for the Gateway (global for the global class,
    regional otherwise; internal for ``gke-l7-rilb``)."""
    proxy_subnet_cidr: str | None
    """Regional classes: the range of the proxy-only subnet the program creates in the region,
    or ``None`` when the network already has one (GKE requires it for those classes)."""

    @property
    def is_global(self) -> bool:
        """The load balancer and its address are global."""
        return self.class_name == "gke-l7-global-external-managed"

    @property
    def is_internal(self) -> bool:
        """The load balancer answers inside the VPC only."""
        return self.class_name == "gke-l7-rilb"


@dataclass(frozen=True, kw_only=True)
class GkeTarget:
    """Deploy to GCP: a registry, a GKE cluster, images pushed."""

    project: str
    """GCP project id."""
    region: str
    """GCP region."""
    cluster: ClusterSettings
    """The cluster and its node pool."""
    registry: RegistrySettings
    """Where images are pushed."""
    gateway: GatewaySettings | None = None
    """The stack's Gateway, when an app uses the canary strategy."""


@dataclass(frozen=True, kw_only=True)
class LocalTarget:
    """Deploy to a kubeconfig context (Minikube, kind); images stay on the local Docker engine."""

    kube_context: str | None
    """Context to use, or ``None`` for the current one."""


#: Where a stack deploys.
Target = GkeTarget | LocalTarget


class SecretValues:
    """App secret values by app and key. Holds no plaintext: :meth:`outputs` asks ``lookup`` for
    each value as a secret Output, inside a Pulumi run, when the program needs it."""

    def __init__(
        self,
        keys: Mapping[str, tuple[str, ...]],
        lookup: Callable[[str, str, str | None], pulumi.Output[str]],
        own: Mapping[str, tuple[str, ...]] | None = None,
    ) -> None:
        self._keys = {app: tuple(k) for app, k in keys.items()}
        self._lookup = lookup
        self._own = {app: tuple(colors) for app, colors in (own or {}).items()}

    def __repr__(self) -> str:
        return f"SecretValues({self._keys}, values hidden)"

    def keys_of(self, app: str) -> tuple[str, ...]:
        """Which keys are set for ``app``."""
        return self._keys.get(app, ())

    def by_color(self, app: str) -> dict[Color, dict[str, pulumi.Output[str]]] | None:
        """:meth:`outputs` for each color, or ``None`` when the app has no secret."""
        if app not in self._keys:
            return None
        return {c: self.outputs(app, c) or {} for c in COLORS}

    def own_colors(self, app: str) -> tuple[str, ...]:
        """Colors of ``app`` that read their own pinned copy of the values."""
        return self._own.get(app, ())

    def outputs(self, app: str, color: str | None = None) -> dict[str, pulumi.Output[str]] | None:
        """The values one color of the app reads (its own pinned copy when it has one, else the
        app-level values), as secret Outputs, or ``None`` when the app has no secret."""
        if app not in self._keys:
            return None
        scope = color if color in self._own.get(app, ()) else None
        return {k: pulumi.Output.secret(self._lookup(app, k, scope)) for k in self._keys[app]}


@dataclass(frozen=True, kw_only=True)
class Settings:
    """Everything the program needs, validated."""

    stack: str
    """Stack name."""
    target: Target
    """Where the stack deploys: GCP (:class:`GkeTarget`) or a local cluster."""
    apps: Mapping[str, AppSettings]
    """Apps by name, in config order."""
    secrets: SecretValues
    """Secret values per app and key; they leave only as secret Outputs."""

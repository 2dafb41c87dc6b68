"""Every name the program gives a cloud or Kubernetes object, and the limits those names live in.

Two kinds of name:

* physical names, the ones GCP and Kubernetes see (``webserver-blue``, ``webserver-preview``); their
  length budgets are derived here from the suffixes this module appends, so that a name that
  passes config validation always fits once suffixed;
* logical names, the Pulumi resource names inside URNs (``imageview-blue``, ``projectid-blue``).
  They are what ``pulumi up`` matches state by: changing one replaces the live object, so they
  must match the URN snapshots (tests/stacks/urns) exactly.

Names derived from an app's name cannot collide across apps (app names are unique keys). Names a
user may override (``deploymentName``, ``service.name``, ``service.previewName``, ConfigMap and
Secret names) can: :func:`first_clash` finds the first such clash over every name of every app, so
config can name the key at fault.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from infra.settings import COLORS, AppSettings, Color

#: Longest service account id GCP accepts (``accountId``: 6 to 30 characters).
SERVICE_ACCOUNT_ID_MAX = 30
#: Longest GKE cluster and node pool name.
GKE_NAME_MAX = 40
#: Longest DNS label (RFC 1035/1123), the shape of every Kubernetes name this program makes.
DNS_LABEL_MAX = 63

#: Appended to a Deployment prefix: ``-blue`` / ``-green``.
COLOR_SUFFIX_MAX = max(len(f"-{c}") for c in COLORS)
#: Appended to the live Service's name for the default preview Service name.
PREVIEW_SUFFIX = "-preview"
#: Appended to the Deployment prefix for the app's NetworkPolicy.
INGRESS_SUFFIX = "-ingress"
#: What pulumi-kubernetes appends to an auto-named object: ``-`` and 8 random characters.
AUTONAME_SUFFIX = 9
#: Appended to the Deployment prefix for a color's smoke Job: ``-smoke-<color>-<8 hex>``. Job
#: names are also the value of the ``job-name`` label Kubernetes sets on the Job's pods, so
#: they must fit a label value (63).
SMOKE_SUFFIX_MAX = len("-smoke") + COLOR_SUFFIX_MAX + 9

#: Budgets for the names a stack may choose, so every derived name still fits a DNS label.
DEPLOYMENT_PREFIX_MAX = DNS_LABEL_MAX - max(COLOR_SUFFIX_MAX, len(INGRESS_SUFFIX), SMOKE_SUFFIX_MAX)
SERVICE_NAME_MAX = DNS_LABEL_MAX - len(PREVIEW_SUFFIX)
#: ConfigMaps and Secrets are auto-named ``<name>-<color>-<random>``.
CONFIG_OBJECT_NAME_MAX = DNS_LABEL_MAX - COLOR_SUFFIX_MAX - AUTONAME_SUFFIX
#: An app name is the default of the Deployment prefix, the Service name and the type label.
APP_NAME_MAX = min(DEPLOYMENT_PREFIX_MAX, SERVICE_NAME_MAX)

_DNS_1035_LABEL = re.compile(r"[a-z]([-a-z0-9]*[a-z0-9])?")


def is_dns_label(value: str, max_len: int = DNS_LABEL_MAX) -> bool:
    """True when ``value`` is a lower-case DNS-1035 label (starts with a letter) of at most
    ``max_len`` characters (kubernetes/kubernetes validation.go ``IsDNS1035Label`` at 008b365). A
    full match: a trailing newline is not a label."""
    return len(value) <= max_len and _DNS_1035_LABEL.fullmatch(value) is not None


def physical_name(*parts: str, max_len: int, min_len: int = 1) -> str:
    """Join ``parts`` with hyphens into a DNS-label-shaped name of at most ``max_len`` characters.

    Characters outside ``[a-z0-9-]`` become hyphens. When the joined name is too long, it is cut
    and ends in a 6-character hash of the full name, so two long names that share a prefix stay
    distinct and the same inputs always give the same name.
    """
    joined = "-".join(p for p in parts if p)
    clean = re.sub(r"[^a-z0-9-]+", "-", joined.lower())
    clean = re.sub(r"-{2,}", "-", clean).strip("-")
    if not clean or not clean[0].isalpha():
        clean = f"x-{clean}".rstrip("-")
    if len(clean) > max_len:
        digest = hashlib.sha256(joined.encode()).hexdigest()[:6]
        clean = f"{clean[: max_len - 7].rstrip('-')}-{digest}"
    if len(clean) < min_len:
        clean = f"{clean}-{'0' * min_len}"[:min_len]
    return clean


# --------------------------------------------------------------------------- GCP


def node_service_account_id(cluster: str) -> str:
    """The node pool's service account id (6 to 30 characters)."""
    return physical_name(cluster, "nodes", max_len=SERVICE_ACCOUNT_ID_MAX, min_len=6)


def node_pool(cluster: str) -> str:
    """The managed node pool's name."""
    return physical_name(cluster, "pool", max_len=GKE_NAME_MAX)


def gateway_address(cluster: str) -> str:
    """The static address the stack's Gateway answers on, unless the stack names one (a GCP
    resource name: a lower-case DNS label of at most 63 characters)."""
    return physical_name(cluster, "gateway", max_len=DNS_LABEL_MAX)


def proxy_subnet(cluster: str) -> str:
    """The proxy-only subnet a regional Gateway's load balancer runs its proxies in."""
    return physical_name(cluster, "proxy-only", max_len=DNS_LABEL_MAX)


# --------------------------------------------------------------------------- Kubernetes objects


def default_preview_service(service: str) -> str:
    """The preview Service's name when the stack does not choose one."""
    return f"{service}{PREVIEW_SUFFIX}"


def deployment(app: AppSettings, color: Color) -> str:
    """The Deployment of one color (S4: ``webserver-blue``)."""
    return f"{app.deployment_prefix}-{color}"


def network_policy(app: AppSettings) -> str:
    """The app's NetworkPolicy."""
    return f"{app.deployment_prefix}{INGRESS_SUFFIX}"


def color_service(app: AppSettings, color: Color) -> str:
    """The ClusterIP Service that always selects ``color`` (what its smoke Job requests). Same
    name as the color's Deployment: a different kind."""
    return deployment(app, color)


def smoke_job(app: AppSettings, color: Color, fingerprint: str) -> str:
    """The smoke Job of ``color`` for what it runs now: a new image or config is a new Job."""
    return f"{app.deployment_prefix}-smoke-{color}-{fingerprint[:8]}"


def disruption_budget(app: AppSettings, color: Color) -> str:
    """The PodDisruptionBudget of ``color``."""
    return deployment(app, color)


#: The stack's one Gateway (gateway.networking.k8s.io), in the namespace of the apps.
GATEWAY = "gke-bluegreen"
#: The Gateway's one listener.
GATEWAY_LISTENER = "http"


def http_route(app: AppSettings) -> str:
    """A canary app's HTTPRoute: the Deployment prefix (``kubia``, ``webserver``)."""
    return app.deployment_prefix


def health_check_policy(app: AppSettings, color: Color) -> str:
    """The HealthCheckPolicy of ``color``'s Service: the Service's own name (another kind)."""
    return color_service(app, color)


def backend_policy(app: AppSettings, color: Color) -> str:
    """The GCPBackendPolicy of ``color``'s Service: the Service's own name (another kind)."""
    return color_service(app, color)


# --------------------------------------------------------------------------- Pulumi logical names


def deployment_resource(app: str, color: Color) -> str:
    """Logical name of one color's Deployment."""
    return f"{app}-{color}"


def config_map_resource(config_map: str, color: Color) -> str:
    """Logical name (and auto-name prefix) of one color's snapshot of a ConfigMap."""
    return f"{config_map}-{color}"


def secret_resource(secret: str, color: Color) -> str:
    """Logical name (and auto-name prefix) of one color's snapshot of the app's Secret."""
    return f"{secret}-{color}"


def live_service_resource(app: str) -> str:
    """Logical name of the live Service."""
    return f"{app}-live"


def preview_service_resource(app: str) -> str:
    """Logical name of the preview Service."""
    return f"{app}-preview"


def network_policy_resource(app: str) -> str:
    """Logical name of the app's NetworkPolicy."""
    return f"{app}{INGRESS_SUFFIX}"


def color_service_resource(app: str, color: Color) -> str:
    """Logical name of a color's own Service."""
    return f"{app}-{color}"


def smoke_job_resource(app: str, color: Color) -> str:
    """Logical name of a color's smoke Job (one per color; a new run replaces it)."""
    return f"{app}-smoke-{color}"


def disruption_budget_resource(app: str, color: Color) -> str:
    """Logical name of a color's PodDisruptionBudget."""
    return f"{app}-{color}"


def scale_down_delay_resource(app: str) -> str:
    """Logical name of the pause between a cutover and the previous color's scale-down."""
    return f"{app}-scale-down-delay"


#: Logical names of the stack's Gateway component, its address and the Gateway object.
GATEWAY_RESOURCE = "gateway"


def gateway_address_resource() -> str:
    """Logical name of the Gateway's static address."""
    return f"{GATEWAY_RESOURCE}-address"


def proxy_subnet_resource() -> str:
    """Logical name of the regional Gateway's proxy-only subnet."""
    return f"{GATEWAY_RESOURCE}-proxy-only"


def http_route_resource(app: str) -> str:
    """Logical name of a canary app's HTTPRoute (and of the component that holds it)."""
    return f"{app}-route"


def health_check_policy_resource(app: str, color: Color) -> str:
    """Logical name of the HealthCheckPolicy of a color's Service."""
    return f"{app}-{color}-health"


def backend_policy_resource(app: str, color: Color) -> str:
    """Logical name of the GCPBackendPolicy of a color's Service."""
    return f"{app}-{color}-backend"


#: The image every smoke Job runs (apps/smoke).
SMOKE_IMAGE = "smoke"


def image_build(app: str, source: Path) -> str:
    """Logical name of the image built from ``source``: the app's name when the folder is named
    after it (``kubia``), else ``<app>-<folder>`` (``imageview-blue``). It depends on the folder,
    not on which colors use it, so pinning one color never renames the other's build."""
    return app if source.name == app else f"{app}-{source.name}"


# --------------------------------------------------------------------------- uniqueness


@dataclass(frozen=True)
class Claim:
    """One name one app takes: what kind of object, the name, and the config key that chose it."""

    kind: str
    """``Deployment``, ``Service``, ``NetworkPolicy``, or a Pulumi logical-name space."""
    name: str
    """The name."""
    key: str
    """The config key responsible, e.g. ``apps.web.service.name``."""


def claims(app: AppSettings) -> list[Claim]:
    """Every name ``app`` takes that another app could also take."""
    base = f"apps.{app.name}"
    prefix_key = f"{base}.deploymentName"
    taken = [
        *(Claim("Deployment", deployment(app, c), prefix_key) for c in COLORS),
        Claim("NetworkPolicy", network_policy(app), prefix_key),
        *(Claim("Service", color_service(app, c), prefix_key) for c in COLORS),
        *(Claim("Job", f"{app.deployment_prefix}-smoke-{c}", prefix_key) for c in COLORS),
        Claim("Service", app.service.name, f"{base}.service.name"),
        Claim("Service", app.service.preview_name, f"{base}.service.previewName"),
        *(
            Claim("ConfigMap resource", config_map_resource(cm, c), f"{base}.configMaps.{cm}")
            for cm in app.colors[COLORS[0]].config_maps
            for c in COLORS
        ),
    ]
    if app.secret is not None:
        taken += [
            Claim("Secret resource", secret_resource(app.secret.name, c), f"{base}.secret.name")
            for c in COLORS
        ]
    first_user: dict[Path, Color] = {}
    for c in COLORS:
        source = app.colors[c].source
        if source is not None:
            first_user.setdefault(source, c)
    shared = len(first_user) == 1 and all(app.colors[c].source for c in COLORS)
    taken += [
        Claim(
            "AppImage resource",
            image_build(app.name, source),
            f"{base}.source" if shared else f"{base}.colors.{c}.source",
        )
        for source, c in first_user.items()
    ]
    return taken


def first_clash(
    apps: Mapping[str, AppSettings] | Iterable[AppSettings],
) -> tuple[Claim, Claim] | None:
    """The first name claimed twice, as (earlier claim, later claim), or ``None``."""
    values = apps.values() if isinstance(apps, Mapping) else apps
    seen: dict[tuple[str, str], Claim] = {}
    for app in values:
        for claim in claims(app):
            earlier = seen.get((claim.kind, claim.name))
            if earlier is not None:
                return earlier, claim
            seen[(claim.kind, claim.name)] = claim
    return None

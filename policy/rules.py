"""The policy rules of gke-bluegreen, as plain functions.

Most rules are a function ``check(resource_type, inputs, ctx) -> list[str]`` over one resource's
Pulumi type token and its camelCase inputs (what CrossGuard and the offline render both see), plus
a small :class:`Context` (stack name and stack config). It returns one message per violation, and
an empty list when the resource complies or the rule does not apply to its type. A rule about how
Pulumi treats a resource rather than what it is (``protect``) checks its :class:`Options` instead
(``options_check``). A few rules also check the stack's config on its own (``stack_check``), so a
bad setting is caught even when the program would not turn it into a resource.

Nothing here imports ``pulumi_policy``: the tests import this module in the program's venv, and
``policy/__main__.py`` wraps the same functions into a CrossGuard PolicyPack in the pack's venv.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

PROJECT = "gke-bluegreen"
"""Pulumi project name; its config keys are ``gke-bluegreen:<key>``."""

PROD_STACK = "prod"
"""The stack where public registry read is never allowed and deletion protection is required."""

SECRET_MARKER = "[secret]"  # noqa: S105 - a placeholder, not a password
"""What the offline render writes in place of a secret value."""

PUBLIC_MEMBERS = frozenset({"allUsers", "allAuthenticatedUsers"})
"""IAM members and ACL entities that mean "anyone"."""

READ_ROLES = frozenset(
    {
        "roles/artifactregistry.reader",
        "roles/storage.objectViewer",
        "roles/storage.legacyObjectReader",
        "roles/storage.legacyBucketReader",
        "READER",
    }
)
"""Roles that only let the public pull; anything else granted to the public is never allowed."""

COMPUTE_DEFAULT_SA = re.compile(r"^\d+-compute@developer\.gserviceaccount\.com$")
"""The Compute Engine default service account (project-wide Editor by default)."""

DIGEST_IMAGE = re.compile(r"^[^@\s]+@sha256:[0-9a-f]{64}$")
"""An image reference pinned by digest."""

SECRET_NAME = re.compile(
    r"(SECRET|PASSWORD|PASSWD|TOKEN|API_?KEY|PRIVATE_?KEY|ACCESS_?KEY|CREDENTIAL)", re.IGNORECASE
)
"""Env var / ConfigMap key names that carry secrets and must come from a Secret."""

SECRET_VALUE = re.compile(
    r"-----BEGIN [A-Z ]*PRIVATE KEY-----|AKIA[0-9A-Z]{16}|AIza[0-9A-Za-z_-]{35}"
)
"""Values that are credentials whatever their name (PEM private keys, AWS and Google API keys)."""

WORKLOAD_POD_SPEC: Mapping[str, tuple[str, ...]] = {
    "kubernetes:core/v1:Pod": ("spec",),
    "kubernetes:apps/v1:Deployment": ("spec", "template", "spec"),
    "kubernetes:apps/v1:StatefulSet": ("spec", "template", "spec"),
    "kubernetes:apps/v1:DaemonSet": ("spec", "template", "spec"),
    "kubernetes:apps/v1:ReplicaSet": ("spec", "template", "spec"),
    "kubernetes:batch/v1:Job": ("spec", "template", "spec"),
    "kubernetes:batch/v1:CronJob": ("spec", "jobTemplate", "spec", "template", "spec"),
}
"""Where each Kubernetes workload type keeps its pod spec."""

RUN_TO_COMPLETION: Mapping[str, tuple[str, ...]] = {
    "kubernetes:batch/v1:Job": ("spec",),
    "kubernetes:batch/v1:CronJob": ("spec", "jobTemplate", "spec"),
}
"""Workloads whose pods run to completion, and where each keeps its JobSpec."""

PUBLIC_GRANT_TYPES = frozenset(
    {
        "gcp:artifactregistry/repositoryIamMember:RepositoryIamMember",
        "gcp:artifactregistry/repositoryIamBinding:RepositoryIamBinding",
        "gcp:artifactregistry/repositoryIamPolicy:RepositoryIamPolicy",
        "gcp:storage/bucketIAMMember:BucketIAMMember",
        "gcp:storage/bucketIAMBinding:BucketIAMBinding",
        "gcp:storage/bucketIAMPolicy:BucketIAMPolicy",
        "gcp:storage/bucketAccessControl:BucketAccessControl",
        "gcp:storage/defaultObjectAccessControl:DefaultObjectAccessControl",
        "gcp:storage/objectAccessControl:ObjectAccessControl",
        "gcp:storage/bucketACL:BucketACL",
        "gcp:storage/defaultObjectACL:DefaultObjectACL",
    }
)
"""Resource types that can grant read access on the registry (Artifact Registry or its bucket)."""

CLUSTER = "gcp:container/cluster:Cluster"
NODE_POOL = "gcp:container/nodePool:NodePool"
REPOSITORY = "gcp:artifactregistry/repository:Repository"
SERVICE = "kubernetes:core/v1:Service"
CONFIG_MAP = "kubernetes:core/v1:ConfigMap"


class Level(StrEnum):
    """How a violation is enforced (the CrossGuard enforcement level of the same name)."""

    MANDATORY = "mandatory"
    """Blocks `pulumi preview`/`up` and fails the offline check."""
    ADVISORY = "advisory"
    """Printed as a warning; never blocks."""


@dataclass(frozen=True, kw_only=True)
class Context:
    """What a rule may know beyond the resource itself."""

    stack: str
    """Stack name, e.g. ``prod``."""
    config: Mapping[str, Any]
    """The stack's config: keys without the ``gke-bluegreen:`` prefix, structured values parsed."""

    @property
    def is_prod(self) -> bool:
        """True for the production stack."""
        return self.stack == PROD_STACK

    def get(self, path: str, default: Any = None) -> Any:
        """The config value at a dotted path (``registry.publicRead``), or ``default``."""
        node: Any = self.config
        for part in path.split("."):
            if not isinstance(node, Mapping) or part not in node:
                return default
            node = node[part]
        return node

    def flag(self, path: str) -> bool:
        """A boolean config value; the string ``true`` (plain `pulumi config set`) counts."""
        value = self.get(path)
        return value is True or (isinstance(value, str) and value.strip().lower() == "true")


@dataclass(frozen=True, kw_only=True)
class Options:
    """The resource options a rule may read; ``None`` where the caller cannot see one."""

    protect: bool | None = None
    """Pulumi refuses to delete or replace the resource (``protect``)."""
    retain_on_delete: bool | None = None
    """Deleting the resource only drops it from the state; the cloud object stays
    (``retainOnDelete``). A CrossGuard pack never sees it: the analyzer's resource options carry
    ``protect`` but no ``retainOnDelete`` (pulumi/pulumi ``proto/pulumi/analyzer.proto``
    ``AnalyzerResourceOptions`` at 1b5949891b3cefcb9974752b24a5ecef0acc86c8; pulumi-policy
    ``sdk/python/lib/pulumi_policy/policy.py`` ``PolicyResourceOptions`` at 805bcbcd3a6d), so
    only the offline runner, which reads the render's ``options``, checks it."""


ResourceCheck = Callable[[str, Mapping[str, Any], Context], list[str]]
OptionsCheck = Callable[[str, Options, Context], list[str]]
StackCheck = Callable[[Context], list[str]]


@dataclass(frozen=True, kw_only=True)
class Rule:
    """One policy: a name (the CrossGuard policy name), its level and its checks."""

    name: str
    """Kebab-case id, shown in every message and used as the CrossGuard policy name."""
    description: str
    """One sentence: what the rule requires."""
    level: Level
    """Mandatory or advisory; docs/delivery.md says why each one is what it is."""
    check: ResourceCheck | None = None
    """Per-resource check of the inputs."""
    options_check: OptionsCheck | None = None
    """Per-resource check of the resource options."""
    stack_check: StackCheck | None = None
    """Optional check of the stack config alone."""

    def resource_messages(
        self, resource_type: str, inputs: Mapping[str, Any], options: Options, ctx: Context
    ) -> list[str]:
        """Every message of this rule's per-resource checks on one resource."""
        out = self.check(resource_type, inputs, ctx) if self.check else []
        if self.options_check:
            out += self.options_check(resource_type, options, ctx)
        return out


# --- helpers -----------------------------------------------------------------------------------


def _dig(node: Any, *path: str) -> Any:
    """``node[path[0]][path[1]]...`` or None when any step is missing or not a mapping."""
    for part in path:
        if not isinstance(node, Mapping):
            return None
        node = node.get(part)
    return node


def _items(node: Any) -> list[Any]:
    """A list input as a list; None or a non-list as empty (strings are not lists here)."""
    if isinstance(node, Sequence) and not isinstance(node, str | bytes):
        return list(node)
    return []


def parse_config(config_env: Mapping[str, str], project: str = PROJECT) -> dict[str, Any]:
    """Stack config as the engine hands it to a policy pack (``PULUMI_CONFIG``), for a Context.

    Keys are ``<project>:<key>``; structured values arrive as JSON text. Keys of other namespaces
    (``gcp:project``) are kept with their namespace.
    """
    out: dict[str, Any] = {}
    prefix = f"{project}:"
    for key, raw in config_env.items():
        name = key[len(prefix) :] if key.startswith(prefix) else key
        value: Any = raw
        if isinstance(raw, str) and raw[:1] in "{[":
            try:
                value = json.loads(raw)
            except ValueError:
                value = raw
        out[name] = value
    return out


def containers(
    resource_type: str, inputs: Mapping[str, Any]
) -> Iterator[tuple[str, Mapping[str, Any], Mapping[str, Any]]]:
    """``(label, container, pod_spec)`` for every container and init container of a workload."""
    path = WORKLOAD_POD_SPEC.get(resource_type)
    if path is None:
        return
    pod = _dig(inputs, *path)
    if not isinstance(pod, Mapping):
        return
    for field, kind in (("initContainers", "init container"), ("containers", "container")):
        for c in _items(pod.get(field)):
            if isinstance(c, Mapping):
                yield f"{kind} '{c.get('name', '?')}'", c, pod


# --- rules -------------------------------------------------------------------------------------


def _public_grants(resource_type: str, inputs: Mapping[str, Any]) -> list[tuple[str, str]]:
    """``(member, role)`` pairs that grant the public something, whatever the resource's shape."""
    grants: list[tuple[str, str]] = []
    role = str(inputs.get("role") or "")
    if resource_type.endswith("IamMember") or resource_type.endswith("IAMMember"):
        grants.append((str(inputs.get("member") or ""), role))
    elif resource_type.endswith("IamBinding") or resource_type.endswith("IAMBinding"):
        grants.extend((str(m), role) for m in _items(inputs.get("members")))
    elif resource_type.endswith("IamPolicy") or resource_type.endswith("IAMPolicy"):
        try:
            policy = json.loads(str(inputs.get("policyData") or "{}"))
        except ValueError:
            policy = {}
        for binding in _items(_dig(policy, "bindings")):
            grants.extend(
                (str(m), str(_dig(binding, "role") or "")) for m in _items(_dig(binding, "members"))
            )
    elif "entity" in inputs:  # *AccessControl
        grants.append((str(inputs.get("entity") or ""), role))
    else:  # BucketACL / DefaultObjectACL
        predefined = str(inputs.get("predefinedAcl") or "")
        if predefined.startswith("public"):
            grants.append(("allUsers", "READER" if predefined == "publicRead" else predefined))
        for entry in _items(inputs.get("roleEntities")):
            acl_role, _, entity = str(entry).partition(":")
            grants.append((entity, acl_role))
    return [(m, r) for m, r in grants if m in PUBLIC_MEMBERS]


def check_public_read(resource_type: str, inputs: Mapping[str, Any], ctx: Context) -> list[str]:
    """No public registry read unless the stack opts in (``registry.publicRead``), never in prod."""
    if resource_type not in PUBLIC_GRANT_TYPES:
        return []
    out = []
    for member, role in _public_grants(resource_type, inputs):
        what = f"grants {member} {role or 'access'}"
        if role not in READ_ROLES:
            out.append(
                f"{what}: only read roles may ever go to the public, allowed: "
                f"{', '.join(sorted(READ_ROLES))}"
            )
        elif ctx.is_prod:
            out.append(f"{what}: public registry read is never allowed on stack '{PROD_STACK}'")
        elif not ctx.flag("registry.publicRead"):
            out.append(
                f"{what}, but stack '{ctx.stack}' does not opt in: set "
                "registry.publicRead: true in its config to allow public read"
            )
    return out


def check_public_read_config(ctx: Context) -> list[str]:
    """The prod stack file must not even ask for public read."""
    if ctx.is_prod and ctx.flag("registry.publicRead"):
        return [
            f"stack '{PROD_STACK}' sets registry.publicRead: true; public registry read is "
            f"never allowed on '{PROD_STACK}' (allowed: false or unset)"
        ]
    return []


def _node_sa_problem(node_config: Any) -> str | None:
    """Why a nodeConfig runs as the Compute default service account, or None when it does not."""
    sa = _dig(node_config, "serviceAccount")
    if sa is None or sa == "":
        return "has no nodeConfig.serviceAccount, so its nodes run as the Compute default one"
    if sa == "default" or COMPUTE_DEFAULT_SA.match(str(sa)):
        return f"uses the Compute default service account ({sa})"
    return None


def check_node_service_account(
    resource_type: str, inputs: Mapping[str, Any], ctx: Context
) -> list[str]:
    """Node pools run as a dedicated service account, never the Compute default one."""
    configs: list[tuple[str, Any]] = []
    if resource_type == NODE_POOL:
        configs.append(("node pool", inputs.get("nodeConfig")))
    elif resource_type == CLUSTER:
        if inputs.get("nodeConfig") is not None:
            configs.append(("default node pool", inputs.get("nodeConfig")))
        for pool in _items(inputs.get("nodePools")):
            configs.append((f"node pool '{_dig(pool, 'name') or '?'}'", _dig(pool, "nodeConfig")))
    out = []
    for label, node_config in configs:
        problem = _node_sa_problem(node_config)
        if problem:
            out.append(f"{label} {problem}; give it a dedicated least-privilege service account")
    return out


def check_prod_deletion_protection(
    resource_type: str, inputs: Mapping[str, Any], ctx: Context
) -> list[str]:
    """The prod cluster keeps deletion protection on."""
    # An unset deletionProtection is the provider's default, which is true.
    if resource_type == CLUSTER and ctx.is_prod and inputs.get("deletionProtection") is False:
        return [
            f"cluster has deletionProtection: false on stack '{PROD_STACK}'; "
            "it must stay true (allowed: true or unset)"
        ]
    return []


def check_prod_deletion_protection_config(ctx: Context) -> list[str]:
    """The prod stack file must not turn deletion protection off."""
    value = ctx.get("cluster.deletionProtection")
    if ctx.is_prod and (value is False or (isinstance(value, str) and value.lower() == "false")):
        return [f"stack '{PROD_STACK}' sets cluster.deletionProtection: false; it must stay true"]
    return []


def check_prod_kept(resource_type: str, options: Options, ctx: Context) -> list[str]:
    """On prod, the cluster and the registry repository are protected, and the repository (every
    release's images) is retained when it leaves the stack. An option the caller cannot see
    (``None``) is not judged."""
    if not ctx.is_prod or resource_type not in (CLUSTER, REPOSITORY):
        return []
    wanted = {"protect": options.protect}
    what = "cluster"
    if resource_type == REPOSITORY:
        wanted["retainOnDelete"] = options.retain_on_delete
        what = "registry repository (every release's images)"
    lacking = [name for name, value in wanted.items() if value is False]
    if not lacking:
        return []
    why = (
        "a `pulumi destroy` or a replacement would delete it"
        if "protect" in lacking
        else "once unprotected, a `pulumi destroy` would delete it and every image in it"
    )
    return [
        f"{what} on stack '{PROD_STACK}' lacks {' and '.join(lacking)}: {why} (allowed: "
        f"{' and '.join(wanted)} true, which the program sets while cluster.deletionProtection "
        "is true)"
    ]


def check_non_root(resource_type: str, inputs: Mapping[str, Any], ctx: Context) -> list[str]:
    """Every container runs as non-root, unprivileged, without privilege escalation."""
    out = []
    for label, c, pod in containers(resource_type, inputs):
        sc = _dig(c, "securityContext") or {}
        psc = _dig(pod, "securityContext") or {}
        non_root = _dig(sc, "runAsNonRoot")
        if non_root is None:
            non_root = _dig(psc, "runAsNonRoot")
        user = _dig(sc, "runAsUser")
        if user is None:
            user = _dig(psc, "runAsUser")
        if non_root is not True:
            out.append(f"{label} does not set securityContext.runAsNonRoot: true")
        if user == 0:
            out.append(f"{label} sets runAsUser: 0 (root)")
        if _dig(sc, "privileged") is True:
            out.append(f"{label} is privileged")
        if _dig(sc, "allowPrivilegeEscalation") is not False:
            out.append(f"{label} does not set securityContext.allowPrivilegeEscalation: false")
    return out


def check_resources(resource_type: str, inputs: Mapping[str, Any], ctx: Context) -> list[str]:
    """Every container declares cpu and memory requests and limits."""
    out = []
    for label, c, _ in containers(resource_type, inputs):
        missing = [
            f"{kind}.{res}"
            for kind in ("requests", "limits")
            for res in ("cpu", "memory")
            if not _dig(c, "resources", kind, res)
        ]
        if missing:
            out.append(f"{label} has no resources {', '.join(missing)}")
    return out


def check_probes(resource_type: str, inputs: Mapping[str, Any], ctx: Context) -> list[str]:
    """Every (non-init) container that serves has a readiness and a liveness probe; a Job (or a
    CronJob's job), whose container runs to completion and takes no traffic, has a deadline
    (``activeDeadlineSeconds``) instead, so a hung run ends."""
    job = RUN_TO_COMPLETION.get(resource_type)
    if job is not None:
        if _dig(inputs, *job, "activeDeadlineSeconds"):
            return []
        kind = resource_type.rsplit(":", 1)[-1]
        name = _dig(inputs, "metadata", "name") or "?"
        return [
            f"{kind} '{name}' has no {'.'.join((*job, 'activeDeadlineSeconds'))}: a hung run "
            "never ends (probes do not apply to a container that runs to completion)"
        ]
    out = []
    for label, c, _ in containers(resource_type, inputs):
        if label.startswith("init"):
            continue  # Kubernetes rejects probes on init containers.
        missing = [p for p in ("readinessProbe", "livenessProbe") if not c.get(p)]
        if missing:
            out.append(f"{label} has no {' and no '.join(missing)}")
    return out


def check_image_digest(resource_type: str, inputs: Mapping[str, Any], ctx: Context) -> list[str]:
    """Every container image is referenced by digest (``name@sha256:<64 hex>``).

    On ``platform: local`` images are built into the node's Docker and never come from a
    registry, so there is no registry digest and no tag that someone could move: there the rule
    asks for a fixed tag (not ``latest``) and a pull policy that never goes to a registry.
    """
    out = []
    local = ctx.get("platform") == "local"
    for label, c, _ in containers(resource_type, inputs):
        image = str(c.get("image") or "")
        if DIGEST_IMAGE.match(image):
            continue
        if local:
            tag = image.rpartition(":")[2] if ":" in image.rpartition("/")[2] else ""
            if tag and tag != "latest" and c.get("imagePullPolicy") != "Always":
                continue
            out.append(
                f"{label} image '{image}' needs a fixed tag (not latest) and a pull policy other "
                "than Always on platform local"
            )
            continue
        out.append(
            f"{label} image '{image}' is not pinned by digest (expected "
            "<name>@sha256:<64 hex digits>)"
        )
    return out


def _declared_load_balancers(ctx: Context) -> set[str]:
    """Apps whose config declares ``service.type: LoadBalancer``."""
    apps = ctx.get("apps")
    if not isinstance(apps, Mapping):
        return set()
    return {name for name, app in apps.items() if _dig(app, "service", "type") == "LoadBalancer"}


def check_load_balancer_declared(
    resource_type: str, inputs: Mapping[str, Any], ctx: Context
) -> list[str]:
    """A LoadBalancer Service exists only for an app whose config declares one."""
    if resource_type != SERVICE or _dig(inputs, "spec", "type") != "LoadBalancer":
        return []
    name = str(_dig(inputs, "metadata", "name") or "?")
    app = _dig(inputs, "metadata", "labels", "app") or _dig(inputs, "spec", "selector", "app")
    declared = _declared_load_balancers(ctx)
    if app in declared:
        return []
    allowed = ", ".join(sorted(declared)) or "none"
    return [
        f"Service '{name}' (app '{app or '?'}') is a LoadBalancer, but the stack config "
        f"does not declare apps.{app or '<app>'}.service.type: LoadBalancer "
        f"(apps that do: {allowed})"
    ]


def _secret_looking(name: str, value: Any) -> str | None:
    """Why a plain value looks like a secret, or None."""
    if value == SECRET_MARKER:
        return "holds a Pulumi secret as a plain value"
    if value not in (None, "") and SECRET_NAME.search(name):
        return "has a secret-like name but a literal value"
    if isinstance(value, str) and SECRET_VALUE.search(value):
        return "holds a credential (private key or API key)"
    return None


def check_no_plain_secret(resource_type: str, inputs: Mapping[str, Any], ctx: Context) -> list[str]:
    """Secrets come from a Secret (secretKeyRef), never a plain env value or ConfigMap."""
    out = []
    for label, c, _ in containers(resource_type, inputs):
        for env in _items(c.get("env")):
            name = str(_dig(env, "name") or "")
            why = _secret_looking(name, _dig(env, "value"))
            if why:
                out.append(f"{label} env {name} {why}; use valueFrom.secretKeyRef")
    if resource_type == CONFIG_MAP:
        cm = str(_dig(inputs, "metadata", "name") or "?")
        data = _dig(inputs, "data")
        for key, value in data.items() if isinstance(data, Mapping) else []:
            why = _secret_looking(str(key), value)
            if why:
                out.append(f"ConfigMap '{cm}' key {key} {why}; put it in a Secret")
    return out


def check_hardening(resource_type: str, inputs: Mapping[str, Any], ctx: Context) -> list[str]:
    """Defence in depth: read-only root fs, no capabilities, seccomp, no token automount."""
    out = []
    pods: list[Mapping[str, Any]] = []
    for label, c, pod in containers(resource_type, inputs):
        if not any(p is pod for p in pods):
            pods.append(pod)
        sc = _dig(c, "securityContext") or {}
        if _dig(sc, "readOnlyRootFilesystem") is not True:
            out.append(f"{label} does not set readOnlyRootFilesystem: true")
        if "ALL" not in [str(x) for x in _items(_dig(sc, "capabilities", "drop"))]:
            out.append(f"{label} does not drop ALL capabilities")
        seccomp = _dig(sc, "seccompProfile", "type") or _dig(
            pod, "securityContext", "seccompProfile", "type"
        )
        if seccomp not in ("RuntimeDefault", "Localhost"):
            out.append(f"{label} has no seccompProfile RuntimeDefault")
    for pod in pods:
        if pod.get("automountServiceAccountToken") is not False:
            out.append(
                "pod mounts a service account token it does not need "
                "(set automountServiceAccountToken: false)"
            )
    return out


def check_prod_replicas(resource_type: str, inputs: Mapping[str, Any], ctx: Context) -> list[str]:
    """In prod, the live color's Deployment has at least two replicas.

    The idle color is exempt: it is parked (0) or kept warm for a fast rollback (``idleReplicas``).
    """
    if resource_type != "kubernetes:apps/v1:Deployment" or not ctx.is_prod:
        return []
    labels = _dig(inputs, "metadata", "labels") or {}
    app, color = _dig(labels, "app"), _dig(labels, "color")
    active = ctx.get(f"apps.{app}.activeColor", "blue") if app else None
    if color is not None and active is not None and color != active:
        return []
    if _dig(inputs, "spec", "replicas") == 1:
        name = _dig(inputs, "metadata", "name") or "?"
        return [
            f"Deployment '{name}' has 1 replica on '{PROD_STACK}'; a node drain takes it down "
            "(use 2 or more)"
        ]
    return []


RULES: tuple[Rule, ...] = (
    Rule(
        name="registry-no-public-read",
        level=Level.MANDATORY,
        check=check_public_read,
        stack_check=check_public_read_config,
        description="No public registry read unless the stack opts in; never in prod.",
    ),
    Rule(
        name="node-pool-dedicated-service-account",
        level=Level.MANDATORY,
        check=check_node_service_account,
        description="Node pools never run as the Compute default service account.",
    ),
    Rule(
        name="prod-deletion-protection",
        level=Level.MANDATORY,
        check=check_prod_deletion_protection,
        stack_check=check_prod_deletion_protection_config,
        description="The prod GKE cluster keeps deletion protection on.",
    ),
    Rule(
        name="prod-stateful-kept",
        level=Level.MANDATORY,
        options_check=check_prod_kept,
        description=(
            "The prod cluster and registry repository are protected; the repository is retained."
        ),
    ),
    Rule(
        name="container-non-root",
        level=Level.MANDATORY,
        check=check_non_root,
        description="Containers run as non-root, unprivileged, without privilege escalation.",
    ),
    Rule(
        name="container-resources",
        level=Level.MANDATORY,
        check=check_resources,
        description="Containers declare cpu and memory requests and limits.",
    ),
    Rule(
        name="container-probes",
        level=Level.MANDATORY,
        check=check_probes,
        description="Serving containers have readiness and liveness probes; Jobs a deadline.",
    ),
    Rule(
        name="image-by-digest",
        level=Level.MANDATORY,
        check=check_image_digest,
        description="Container images are referenced by digest.",
    ),
    Rule(
        name="load-balancer-declared",
        level=Level.MANDATORY,
        check=check_load_balancer_declared,
        description="A LoadBalancer Service exists only for an app that declares one.",
    ),
    Rule(
        name="no-plain-secret",
        level=Level.MANDATORY,
        check=check_no_plain_secret,
        description="Secrets come from a Secret, never a plain env value or ConfigMap.",
    ),
    Rule(
        name="container-hardening",
        level=Level.ADVISORY,
        check=check_hardening,
        description="Read-only root fs, capabilities dropped, seccomp, no token automount.",
    ),
    Rule(
        name="prod-replicas",
        level=Level.ADVISORY,
        check=check_prod_replicas,
        description="The live color's Deployment in prod runs at least two replicas.",
    ),
)
"""Every rule, in the order the pack lists them."""

"""Rules over pods and their containers, in every workload kind: who a container runs as, what it
may use, how it is probed, which image it runs, where its secrets come from, and the hardening on
top (advisory). ConfigMaps are read here too: a secret in one reaches the pod as plain text."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

from .model import Context, dig, items

# Must equal infra's redaction marker (infra.offline.mocks.redact); tests/policy/rules checks it.
SECRET_MARKER = "[secret]"  # noqa: S105 - a placeholder, not a password
"""What the offline render writes in place of a secret value."""

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

CONFIG_MAP = "kubernetes:core/v1:ConfigMap"

Container = tuple[str, Mapping[str, Any], Mapping[str, Any]]
"""``(label, container, pod_spec)``: the label names the container in messages."""


def containers(resource_type: str, inputs: Mapping[str, Any]) -> Iterator[Container]:
    """``(label, container, pod_spec)`` for every container and init container of a workload."""
    path = WORKLOAD_POD_SPEC.get(resource_type)
    if path is None:
        return
    pod = dig(inputs, *path)
    if not isinstance(pod, Mapping):
        return
    for field, kind in (("initContainers", "init container"), ("containers", "container")):
        for c in items(pod.get(field)):
            if isinstance(c, Mapping):
                yield f"{kind} '{c.get('name', '?')}'", c, pod


# --- container-non-root ------------------------------------------------------------------------


def _security_setting(container: Mapping[str, Any], pod: Mapping[str, Any], key: str) -> Any:
    """A security setting as Kubernetes applies it: the container's, else the pod's."""
    value = dig(container, "securityContext", key)
    return dig(pod, "securityContext", key) if value is None else value


def _root_problems(label: str, container: Mapping[str, Any], pod: Mapping[str, Any]) -> list[str]:
    """How one container could run as root or gain privileges."""
    out = []
    if _security_setting(container, pod, "runAsNonRoot") is not True:
        out.append(f"{label} does not set securityContext.runAsNonRoot: true")
    if _security_setting(container, pod, "runAsUser") == 0:
        out.append(f"{label} sets runAsUser: 0 (root)")
    if dig(container, "securityContext", "privileged") is True:
        out.append(f"{label} is privileged")
    if dig(container, "securityContext", "allowPrivilegeEscalation") is not False:
        out.append(f"{label} does not set securityContext.allowPrivilegeEscalation: false")
    return out


def check_non_root(resource_type: str, inputs: Mapping[str, Any], ctx: Context) -> list[str]:
    """Every container runs as non-root, unprivileged, without privilege escalation."""
    return [
        message
        for label, c, pod in containers(resource_type, inputs)
        for message in _root_problems(label, c, pod)
    ]


# --- container-resources -----------------------------------------------------------------------


def check_resources(resource_type: str, inputs: Mapping[str, Any], ctx: Context) -> list[str]:
    """Every container declares cpu and memory requests and limits."""
    out = []
    for label, c, _ in containers(resource_type, inputs):
        missing = [
            f"{kind}.{res}"
            for kind in ("requests", "limits")
            for res in ("cpu", "memory")
            if not dig(c, "resources", kind, res)
        ]
        if missing:
            out.append(f"{label} has no resources {', '.join(missing)}")
    return out


# --- container-probes --------------------------------------------------------------------------


def _missing_deadline(
    resource_type: str, job: tuple[str, ...], inputs: Mapping[str, Any]
) -> list[str]:
    """A run-to-completion workload without ``activeDeadlineSeconds`` in its JobSpec at ``job``."""
    if dig(inputs, *job, "activeDeadlineSeconds"):
        return []
    kind = resource_type.rsplit(":", 1)[-1]
    name = dig(inputs, "metadata", "name") or "?"
    return [
        f"{kind} '{name}' has no {'.'.join((*job, 'activeDeadlineSeconds'))}: a hung run "
        "never ends (probes do not apply to a container that runs to completion)"
    ]


def check_probes(resource_type: str, inputs: Mapping[str, Any], ctx: Context) -> list[str]:
    """Every (non-init) container that serves has a readiness and a liveness probe; a Job (or a
    CronJob's job), whose container runs to completion and takes no traffic, has a deadline
    (``activeDeadlineSeconds``) instead, so a hung run ends."""
    job = RUN_TO_COMPLETION.get(resource_type)
    if job is not None:
        return _missing_deadline(resource_type, job, inputs)
    out = []
    for label, c, _ in containers(resource_type, inputs):
        if label.startswith("init"):
            continue  # Kubernetes rejects probes on init containers.
        missing = [p for p in ("readinessProbe", "livenessProbe") if not c.get(p)]
        if missing:
            out.append(f"{label} has no {' and no '.join(missing)}")
    return out


# --- image-by-digest ---------------------------------------------------------------------------


def _fixed_local_image(image: str, container: Mapping[str, Any]) -> bool:
    """A tag other than ``latest`` and a pull policy that never goes to a registry."""
    tag = image.rpartition(":")[2] if ":" in image.rpartition("/")[2] else ""
    return bool(tag) and tag != "latest" and container.get("imagePullPolicy") != "Always"


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
        if not local:
            out.append(
                f"{label} image '{image}' is not pinned by digest (expected "
                "<name>@sha256:<64 hex digits>)"
            )
        elif not _fixed_local_image(image, c):
            out.append(
                f"{label} image '{image}' needs a fixed tag (not latest) and a pull policy other "
                "than Always on platform local"
            )
    return out


# --- no-plain-secret ---------------------------------------------------------------------------


def _secret_looking(name: str, value: Any) -> str | None:
    """Why a plain value looks like a secret, or None."""
    if value == SECRET_MARKER:
        return "holds a Pulumi secret as a plain value"
    if value not in (None, "") and SECRET_NAME.search(name):
        return "has a secret-like name but a literal value"
    if isinstance(value, str) and SECRET_VALUE.search(value):
        return "holds a credential (private key or API key)"
    return None


def _plain_secret_env(resource_type: str, inputs: Mapping[str, Any]) -> list[str]:
    """Env vars of a workload's containers that hold a secret as a literal."""
    out = []
    for label, c, _ in containers(resource_type, inputs):
        for env in items(c.get("env")):
            name = str(dig(env, "name") or "")
            why = _secret_looking(name, dig(env, "value"))
            if why:
                out.append(f"{label} env {name} {why}; use valueFrom.secretKeyRef")
    return out


def _plain_secret_data(inputs: Mapping[str, Any]) -> list[str]:
    """Keys of a ConfigMap that hold a secret."""
    cm = str(dig(inputs, "metadata", "name") or "?")
    data = dig(inputs, "data")
    out = []
    for key, value in data.items() if isinstance(data, Mapping) else []:
        why = _secret_looking(str(key), value)
        if why:
            out.append(f"ConfigMap '{cm}' key {key} {why}; put it in a Secret")
    return out


def check_no_plain_secret(resource_type: str, inputs: Mapping[str, Any], ctx: Context) -> list[str]:
    """Secrets come from a Secret (secretKeyRef), never a plain env value or ConfigMap."""
    out = _plain_secret_env(resource_type, inputs)
    if resource_type == CONFIG_MAP:
        out += _plain_secret_data(inputs)
    return out


# --- container-hardening -----------------------------------------------------------------------


def _container_hardening(
    label: str, container: Mapping[str, Any], pod: Mapping[str, Any]
) -> list[str]:
    """What one container lacks of the defence in depth."""
    out = []
    sc = dig(container, "securityContext") or {}
    if dig(sc, "readOnlyRootFilesystem") is not True:
        out.append(f"{label} does not set readOnlyRootFilesystem: true")
    if "ALL" not in [str(x) for x in items(dig(sc, "capabilities", "drop"))]:
        out.append(f"{label} does not drop ALL capabilities")
    seccomp = dig(sc, "seccompProfile", "type") or dig(
        pod, "securityContext", "seccompProfile", "type"
    )
    if seccomp not in ("RuntimeDefault", "Localhost"):
        out.append(f"{label} has no seccompProfile RuntimeDefault")
    return out


def check_hardening(resource_type: str, inputs: Mapping[str, Any], ctx: Context) -> list[str]:
    """Defence in depth: read-only root fs, no capabilities, seccomp, no token automount."""
    out = []
    pods: list[Mapping[str, Any]] = []
    for label, c, pod in containers(resource_type, inputs):
        if not any(p is pod for p in pods):
            pods.append(pod)
        out += _container_hardening(label, c, pod)
    out += [
        "pod mounts a service account token it does not need "
        "(set automountServiceAccountToken: false)"
        for pod in pods
        if pod.get("automountServiceAccountToken") is not False
    ]
    return out

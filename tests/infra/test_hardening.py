"""infra/hardening.py: every pod the program renders (app colors and smoke Jobs, every stack)
passes the Kubernetes Pod Security Standards "restricted" level, as the admission plugin checks it.

The checks below are ports of kubernetes/kubernetes
staging/src/k8s.io/pod-security-admission/policy/ (docs/upstream.md P1 to P8); each names its
file and commit, and returns the upstream forbidden reason, or None.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from infra.offline.program import Render

Pod = dict[str, Any]
Renderer = Callable[..., Render]
STACKS = ("dev", "imageview", "local", "prod")


def _containers(pod: Pod) -> Iterator[dict[str, Any]]:
    # visitContainers: initContainers, containers and ephemeralContainers.
    for key in ("initContainers", "containers", "ephemeralContainers"):
        yield from pod.get(key) or []


def _sc(c: dict[str, Any]) -> dict[str, Any]:
    return c.get("securityContext") or {}


def allow_privilege_escalation(pod: Pod) -> str | None:
    """check_allowPrivilegeEscalation.go at 1e28863: nil or true is forbidden; only false
    passes."""
    bad = any(_sc(c).get("allowPrivilegeEscalation") is not False for c in _containers(pod))
    return "allowPrivilegeEscalation != false" if bad else None


def capabilities_restricted(pod: Pod) -> str | None:
    """check_capabilities_restricted.go at 422c8fc: drop must include ALL; add only
    NET_BIND_SERVICE."""
    for c in _containers(pod):
        caps = _sc(c).get("capabilities")
        if caps is None or "ALL" not in (caps.get("drop") or []):
            return "unrestricted capabilities"
        if any(a != "NET_BIND_SERVICE" for a in caps.get("add") or []):
            return "unrestricted capabilities"
    return None


def run_as_non_root(pod: Pod) -> str | None:
    """check_runAsNonRoot.go at 040ba6f: pod-level true covers containers that leave it unset;
    false anywhere is forbidden."""
    pod_value = (pod.get("securityContext") or {}).get("runAsNonRoot")
    if pod_value is False:
        return "runAsNonRoot != true"
    for c in _containers(pod):
        value = _sc(c).get("runAsNonRoot")
        if value is False or (value is None and pod_value is not True):
            return "runAsNonRoot != true"
    return None


def run_as_user(pod: Pod) -> str | None:
    """check_runAsUser.go at 43753f1: runAsUser 0 at pod or container level is forbidden."""
    users = [(pod.get("securityContext") or {}).get("runAsUser")]
    users += [_sc(c).get("runAsUser") for c in _containers(pod)]
    return "runAsUser=0" if 0 in users else None


def seccomp_profile_restricted(pod: Pod) -> str | None:
    """check_seccompProfile_restricted.go at 422c8fc: RuntimeDefault or Localhost, at pod level
    or on every container."""
    valid = {"RuntimeDefault", "Localhost"}
    profile = (pod.get("securityContext") or {}).get("seccompProfile")
    if profile is not None and profile.get("type") not in valid:
        return "seccompProfile"
    for c in _containers(pod):
        own = _sc(c).get("seccompProfile")
        if (own is not None and own.get("type") not in valid) or (own is None and profile is None):
            return "seccompProfile"
    return None


def restricted_volumes(pod: Pod) -> str | None:
    """check_restrictedVolumes.go at 13a1804: only configMap, csi, downwardAPI, emptyDir,
    ephemeral, persistentVolumeClaim, projected and secret volumes."""
    allowed = {
        "configMap",
        "csi",
        "downwardAPI",
        "emptyDir",
        "ephemeral",
        "persistentVolumeClaim",
        "projected",
        "secret",
    }
    for volume in pod.get("volumes") or []:
        if not allowed & set(volume):
            return "restricted volume types"
    return None


def privileged(pod: Pod) -> str | None:
    """check_privileged.go at 008b365 (baseline, included in restricted): privileged must be
    unset or false."""
    bad = any(_sc(c).get("privileged") is True for c in _containers(pod))
    return "privileged" if bad else None


def host_namespaces(pod: Pod) -> str | None:
    """check_hostNamespaces.go at 696d0f5 (baseline): hostNetwork, hostPID and hostIPC unset or
    false."""
    bad = any(pod.get(k) is True for k in ("hostNetwork", "hostPID", "hostIPC"))
    return "host namespaces" if bad else None


CHECKS = (
    allow_privilege_escalation,
    capabilities_restricted,
    run_as_non_root,
    run_as_user,
    seccomp_profile_restricted,
    restricted_volumes,
    privileged,
    host_namespaces,
)


def violations(pod: Pod) -> list[str]:
    return [reason for check in CHECKS if (reason := check(pod))]


def pods(r: Render) -> dict[str, Pod]:
    """Every pod template the stack renders, by kind/name."""
    return {
        f"{m['kind']}/{m['metadata']['name']}": m["spec"]["template"]["spec"]
        for m in r.manifests()
        if m["kind"] in {"Deployment", "Job", "StatefulSet", "DaemonSet"}
    }


@pytest.mark.parametrize("stack", STACKS)
def test_every_rendered_pod_is_restricted(render_stack: Renderer, stack: str) -> None:
    found = pods(render_stack(stack))
    kinds = {name.split("/")[0] for name in found}
    assert {"Deployment", "Job"} <= kinds, kinds
    bad = {name: v for name, pod in found.items() if (v := violations(pod))}
    assert not bad, bad


BREAKS: list[tuple[str, Callable[[Pod], object], str]] = [
    (
        "escalation allowed",
        lambda p: p["containers"][0]["securityContext"].pop("allowPrivilegeEscalation"),
        "allowPrivilegeEscalation != false",
    ),
    (
        "capabilities kept",
        lambda p: p["containers"][0]["securityContext"]["capabilities"].update(drop=["NET_RAW"]),
        "unrestricted capabilities",
    ),
    (
        "a capability added",
        lambda p: p["containers"][0]["securityContext"]["capabilities"].update(add=["SYS_ADMIN"]),
        "unrestricted capabilities",
    ),
    (
        "root allowed",
        lambda p: (
            p["securityContext"].pop("runAsNonRoot"),
            p["containers"][0]["securityContext"].pop("runAsNonRoot"),
        ),
        "runAsNonRoot != true",
    ),
    ("uid 0", lambda p: p["securityContext"].update(runAsUser=0), "runAsUser=0"),
    ("no seccomp", lambda p: p["securityContext"].pop("seccompProfile"), "seccompProfile"),
    (
        "unconfined seccomp",
        lambda p: p["securityContext"].update(seccompProfile={"type": "Unconfined"}),
        "seccompProfile",
    ),
    (
        "hostPath volume",
        lambda p: p.setdefault("volumes", []).append({"name": "h", "hostPath": {"path": "/"}}),
        "restricted volume types",
    ),
    (
        "privileged",
        lambda p: p["containers"][0]["securityContext"].update(privileged=True),
        "privileged",
    ),
    ("host network", lambda p: p.update(hostNetwork=True), "host namespaces"),
]


@pytest.mark.parametrize(("what", "breaks", "reason"), BREAKS, ids=[b[0] for b in BREAKS])
@pytest.mark.parametrize("kind", ["Deployment", "Job"])
def test_a_weakened_pod_fails_the_ported_checks(
    render_stack: Renderer, kind: str, what: str, breaks: Callable[[Pod], object], reason: str
) -> None:
    """The ports are not vacuous: each weakening of a rendered pod gets upstream's reason."""
    found = pods(render_stack("prod"))
    pod = copy.deepcopy(next(p for name, p in found.items() if name.startswith(kind)))
    assert violations(pod) == []
    breaks(pod)
    assert reason in violations(pod), what

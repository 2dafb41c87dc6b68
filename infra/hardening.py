"""The one security posture of every pod this program runs (app colors and smoke Jobs): non-root
with a fixed uid/gid, the runtime's default seccomp profile, no privilege escalation, no
capabilities and a read-only root filesystem. It meets the Kubernetes "restricted" Pod Security
Standard; tests/infra/test_hardening.py checks every rendered pod against it (ports of
pod-security-admission's checks)."""

from __future__ import annotations

import pulumi_kubernetes as k8s

_core = k8s.core.v1


def pod_security(run_as_user: int) -> k8s.core.v1.PodSecurityContextArgs:
    """The pod-level half: who the containers run as, and the seccomp profile."""
    return _core.PodSecurityContextArgs(
        run_as_non_root=True,
        run_as_user=run_as_user,
        run_as_group=run_as_user,
        seccomp_profile=_core.SeccompProfileArgs(type="RuntimeDefault"),
    )


def container_security() -> k8s.core.v1.SecurityContextArgs:
    """The container-level half: nothing to escalate to and nothing writable but mounts."""
    return _core.SecurityContextArgs(
        allow_privilege_escalation=False,
        privileged=False,
        read_only_root_filesystem=True,
        run_as_non_root=True,
        capabilities=_core.CapabilitiesArgs(drop=["ALL"]),
    )

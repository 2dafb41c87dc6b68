"""Rules over the registry and the cluster: who may read the registry (IAM bindings and ACLs on
Artifact Registry or its bucket), and which identity the cluster's nodes run as."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from .model import CLUSTER, PROD_STACK, Context, dig, items

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

COMPUTE_DEFAULT_SA = re.compile(r"^\d+-compute@developer\.gserviceaccount\.com$")
"""The Compute Engine default service account (project-wide Editor by default)."""

NODE_POOL = "gcp:container/nodePool:NodePool"

Grant = tuple[str, str]
"""``(member, role)``: who is granted what."""


# --- registry-no-public-read -------------------------------------------------------------------


def _policy_grants(policy_data: Any) -> list[Grant]:
    """Every ``(member, role)`` of an IAM policy document (JSON text; unreadable is empty)."""
    try:
        policy = json.loads(str(policy_data or "{}"))
    except ValueError:
        policy = {}
    return [
        (str(m), str(dig(binding, "role") or ""))
        for binding in items(dig(policy, "bindings"))
        for m in items(dig(binding, "members"))
    ]


def _acl_grants(inputs: Mapping[str, Any]) -> list[Grant]:
    """Every ``(entity, role)`` of a whole ACL (``BucketACL``, ``DefaultObjectACL``)."""
    grants: list[Grant] = []
    predefined = str(inputs.get("predefinedAcl") or "")
    if predefined.startswith("public"):
        grants.append(("allUsers", "READER" if predefined == "publicRead" else predefined))
    for entry in items(inputs.get("roleEntities")):
        acl_role, _, entity = str(entry).partition(":")
        grants.append((entity, acl_role))
    return grants


def _grants(resource_type: str, inputs: Mapping[str, Any]) -> list[Grant]:
    """Every ``(member, role)`` a grant resource makes, whatever its shape."""
    role = str(inputs.get("role") or "")
    if resource_type.endswith(("IamMember", "IAMMember")):
        return [(str(inputs.get("member") or ""), role)]
    if resource_type.endswith(("IamBinding", "IAMBinding")):
        return [(str(m), role) for m in items(inputs.get("members"))]
    if resource_type.endswith(("IamPolicy", "IAMPolicy")):
        return _policy_grants(inputs.get("policyData"))
    if "entity" in inputs:  # *AccessControl
        return [(str(inputs.get("entity") or ""), role)]
    return _acl_grants(inputs)


def _public_grants(resource_type: str, inputs: Mapping[str, Any]) -> list[Grant]:
    """``(member, role)`` pairs that grant the public something, whatever the resource's shape."""
    return [(m, r) for m, r in _grants(resource_type, inputs) if m in PUBLIC_MEMBERS]


def _public_grant_problem(member: str, role: str, ctx: Context) -> str | None:
    """Why the stack may not grant the public this role, or None when it may."""
    what = f"grants {member} {role or 'access'}"
    if role not in READ_ROLES:
        return (
            f"{what}: only read roles may ever go to the public, allowed: "
            f"{', '.join(sorted(READ_ROLES))}"
        )
    if ctx.is_prod:
        return f"{what}: public registry read is never allowed on stack '{PROD_STACK}'"
    if not ctx.flag("registry.publicRead"):
        return (
            f"{what}, but stack '{ctx.stack}' does not opt in: set "
            "registry.publicRead: true in its config to allow public read"
        )
    return None


def check_public_read(resource_type: str, inputs: Mapping[str, Any], ctx: Context) -> list[str]:
    """No public registry read unless the stack opts in (``registry.publicRead``), never in prod."""
    if resource_type not in PUBLIC_GRANT_TYPES:
        return []
    problems = (_public_grant_problem(m, r, ctx) for m, r in _public_grants(resource_type, inputs))
    return [p for p in problems if p is not None]


def check_public_read_config(ctx: Context) -> list[str]:
    """The prod stack file must not even ask for public read."""
    if ctx.is_prod and ctx.flag("registry.publicRead"):
        return [
            f"stack '{PROD_STACK}' sets registry.publicRead: true; public registry read is "
            f"never allowed on '{PROD_STACK}' (allowed: false or unset)"
        ]
    return []


# --- node-pool-dedicated-service-account -------------------------------------------------------


def _node_sa_problem(node_config: Any) -> str | None:
    """Why a nodeConfig runs as the Compute default service account, or None when it does not."""
    sa = dig(node_config, "serviceAccount")
    if sa is None or sa == "":
        return "has no nodeConfig.serviceAccount, so its nodes run as the Compute default one"
    if sa == "default" or COMPUTE_DEFAULT_SA.match(str(sa)):
        return f"uses the Compute default service account ({sa})"
    return None


def _node_configs(resource_type: str, inputs: Mapping[str, Any]) -> list[tuple[str, Any]]:
    """``(label, nodeConfig)`` of a node pool, or of each pool a cluster declares inline."""
    if resource_type == NODE_POOL:
        return [("node pool", inputs.get("nodeConfig"))]
    if resource_type != CLUSTER:
        return []
    configs: list[tuple[str, Any]] = []
    if inputs.get("nodeConfig") is not None:
        configs.append(("default node pool", inputs.get("nodeConfig")))
    for pool in items(inputs.get("nodePools")):
        configs.append((f"node pool '{dig(pool, 'name') or '?'}'", dig(pool, "nodeConfig")))
    return configs


def check_node_service_account(
    resource_type: str, inputs: Mapping[str, Any], ctx: Context
) -> list[str]:
    """Node pools run as a dedicated service account, never the Compute default one."""
    out = []
    for label, node_config in _node_configs(resource_type, inputs):
        problem = _node_sa_problem(node_config)
        if problem:
            out.append(f"{label} {problem}; give it a dedicated least-privilege service account")
    return out

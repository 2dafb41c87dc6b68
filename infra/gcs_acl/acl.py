"""The ACL rules, pure: whether an entity holds a role, and the ACL to write back.

What a role means, the same for grant, revoke and check: a role is *at least* that access, and
OWNER includes READER (GCS keeps one entry per entity, and an OWNER can read).

- ``grant R``: the entity ends up holding R or the higher role it already had (a READER grant
  never downgrades an OWNER);
- ``check R``: passes where the entity holds R or a higher role;
- ``revoke R``: removes the entity's entry where it holds R or a higher role (``revoke READER``
  removes the entity whatever its role; ``revoke OWNER`` leaves a READER entry alone).

So after ``grant R`` ``check R`` passes, and after ``revoke R`` it fails.
"""

from __future__ import annotations

from typing import Any

from infra.gcs_acl.spec import AclSpec, Action

_ROLE_RANK = {"READER": 1, "WRITER": 2, "OWNER": 3}
IAM_ROLE_FOR = {"READER": "roles/storage.objectViewer", "OWNER": "roles/storage.objectAdmin"}
"""The IAM role on the bucket that gives what an object ACL role gives (uniform access)."""


def _rank(role: object) -> int:
    return _ROLE_RANK.get(str(role), 0)


def holds(acl: list[dict[str, Any]], entity: str, role: str) -> bool:
    """True if ``acl`` gives ``entity`` the role or a higher one."""
    return any(e.get("entity") == entity and _rank(e.get("role")) >= _ROLE_RANK[role] for e in acl)


def with_grant(acl: list[dict[str, Any]], entity: str, role: str) -> list[dict[str, str]]:
    """``acl`` (entity/role only) with ``entity`` set to ``role`` (GCS keeps one per entity)."""
    kept = [_bare(e) for e in acl if e.get("entity") != entity]
    return [*kept, {"entity": entity, "role": role}]


def without_grant(acl: list[dict[str, Any]], entity: str, role: str) -> list[dict[str, str]]:
    """``acl`` (entity/role only) without ``entity``'s entry where it holds ``role`` or higher
    (a lower role it holds stays: revoking OWNER leaves a READER alone)."""
    return [
        _bare(e)
        for e in acl
        if not (e.get("entity") == entity and _rank(e.get("role")) >= _ROLE_RANK[role])
    ]


def _bare(entry: dict[str, Any]) -> dict[str, str]:
    # Read-only fields (etag, id, selfLink, ...) are not sent back.
    return {"entity": str(entry["entity"]), "role": str(entry["role"])}


def needs_change(action: Action, acl: list[dict[str, Any]], spec: AclSpec) -> bool:
    """Whether ``action`` would change an object with this ACL: a grant where the entity does
    not hold the role (or higher), a revoke where it does."""
    held = holds(acl, spec.entity, spec.role)
    return not held if action == "grant" else held


def new_acl(action: Action, acl: list[dict[str, Any]], spec: AclSpec) -> list[dict[str, str]]:
    """The ACL to write back after ``action``."""
    if action == "grant":
        return with_grant(acl, spec.entity, spec.role)
    return without_grant(acl, spec.entity, spec.role)


def iam_member(entity: str) -> str:
    """The IAM member for an ACL entity (allUsers→allUsers, user-x→user:x, ...)."""
    for kind in ("user", "group", "domain"):
        if entity.startswith(f"{kind}-"):
            return f"{kind}:{entity[len(kind) + 1 :]}"
    return entity

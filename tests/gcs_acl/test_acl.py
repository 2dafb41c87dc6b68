"""infra/gcs_acl/acl.py: the ACL arithmetic, and one meaning of a role in grant, revoke, check."""

from __future__ import annotations

import pytest

from infra.gcs_acl import acl
from infra.gcs_acl.spec import AclSpec, normalize_spec

PUBLIC = {"entity": "allUsers", "role": "READER"}


def spec(bucket: str, prefix: str = "", entity: str = "allUsers", role: str = "READER") -> AclSpec:
    return normalize_spec(bucket, prefix, entity, role)


def test_acl_arithmetic_keeps_other_entries_and_one_role_per_entity() -> None:
    owner = {"entity": "project-owners-1", "role": "OWNER", "etag": "x"}
    entries = [owner, {"entity": "allUsers", "role": "READER"}]
    assert acl.holds(entries, "allUsers", "READER")
    assert not acl.holds(entries, "allUsers", "OWNER")
    assert acl.holds([{"entity": "user-a@b.co", "role": "OWNER"}], "user-a@b.co", "READER")
    assert acl.with_grant([owner], "allUsers", "READER") == [
        {"entity": "project-owners-1", "role": "OWNER"},
        PUBLIC,
    ]
    upgraded = acl.with_grant([{"entity": "user-a@b.co", "role": "READER"}], "user-a@b.co", "OWNER")
    assert upgraded == [{"entity": "user-a@b.co", "role": "OWNER"}]
    assert acl.without_grant(entries, "allUsers", "READER") == [
        {"entity": "project-owners-1", "role": "OWNER"}
    ]
    # A role is "at least": revoking READER removes an OWNER too (it could read), revoking
    # OWNER leaves a READER alone.
    assert acl.without_grant([owner], "project-owners-1", "READER") == []
    reader = {"entity": "user-a@b.co", "role": "READER"}
    assert acl.without_grant([reader], "user-a@b.co", "OWNER") == [reader]


def test_iam_member_mapping() -> None:
    assert acl.iam_member("allUsers") == "allUsers"
    assert acl.iam_member("user-a@b.co") == "user:a@b.co"
    assert acl.iam_member("domain-example.com") == "domain:example.com"


ACL_STATES = [
    [],
    [{"entity": "user-a@b.co", "role": "READER"}],
    [{"entity": "user-a@b.co", "role": "OWNER"}],
    [{"entity": "project-owners-1", "role": "OWNER"}, {"entity": "user-a@b.co", "role": "OWNER"}],
]


@pytest.mark.parametrize("entries", ACL_STATES)
@pytest.mark.parametrize("role", ["READER", "OWNER"])
def test_one_meaning_of_role_for_grant_revoke_and_check(
    entries: list[dict[str, str]], role: str
) -> None:
    """check R (holds) passes after grant R and fails after revoke R, whatever the entity held;
    grant and revoke change an object exactly when check says they must."""
    s = spec("bkt", entity="user-a@b.co", role=role)
    held = acl.holds(entries, s.entity, role)
    assert acl.needs_change("grant", entries, s) is not held
    assert acl.needs_change("revoke", entries, s) is held
    granted = acl.new_acl("grant", entries, s) if not held else entries
    assert acl.holds(granted, s.entity, role)
    revoked = acl.new_acl("revoke", granted, s)
    assert not acl.holds(revoked, s.entity, role)
    assert not acl.needs_change("revoke", revoked, s)
    # Other entities' entries are never touched.
    others = [e for e in entries if e["entity"] != s.entity]
    assert [e for e in revoked if e["entity"] != s.entity] == others


def test_a_reader_grant_never_downgrades_an_owner() -> None:
    owner = [{"entity": "user-a@b.co", "role": "OWNER"}]
    assert not acl.needs_change("grant", owner, spec("bkt", entity="user-a@b.co"))


@pytest.mark.parametrize(
    ("role", "iam_role"), [("READER", "objectViewer"), ("OWNER", "objectAdmin")]
)
def test_each_object_role_has_its_iam_role_for_uniform_access(role: str, iam_role: str) -> None:
    assert acl.IAM_ROLE_FOR[role] == f"roles/storage.{iam_role}"

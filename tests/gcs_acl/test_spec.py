"""infra/gcs_acl/spec.py: validation and normalisation, the ACL rules, pinned defaults."""

from __future__ import annotations

import pytest

from infra.gcs_acl import spec as spec_mod

PUBLIC = {"entity": "allUsers", "role": "READER"}


def spec(bucket: str, prefix: str = "", entity: str = "allUsers", role: str = "READER"):
    return spec_mod.normalize_spec(bucket, prefix, entity, role)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (("gs://artifacts.p-1.appspot.com/", "", "AllUsers", "R"), ("allUsers", "READER")),
        (("bkt", "v1/", "allauthenticatedusers", "reader"), ("allAuthenticatedUsers", "READER")),
        (("bkt", "", "user-ops@example.com", "O"), ("user-ops@example.com", "OWNER")),
        (("bkt", "", "group-devs@example.com", "READER"), ("group-devs@example.com", "READER")),
        (("bkt", "", "domain-example.com", "READER"), ("domain-example.com", "READER")),
        (("bkt", "", "project-viewers-my-proj", "READER"), ("project-viewers-my-proj", "READER")),
    ],
)
def test_normalize_accepts_gsutil_spellings(raw: tuple[str, ...], expected: tuple[str, str]):
    got = spec_mod.normalize_spec(*raw)
    assert (got.entity, got.role) == expected
    assert not got.bucket.startswith("gs://") and not got.bucket.endswith("/")


@pytest.mark.parametrize(
    ("raw", "field", "words"),
    [
        (("b", "", "allUsers", "READER"), "bucket", "invalid bucket name 'b'"),
        (("Upper", "", "allUsers", "READER"), "bucket", "a-z, 0-9"),
        (("x" * 64, "", "allUsers", "READER"), "bucket", "3-63 characters"),
        (("bkt", "", "everyone", "READER"), "entity", "allowed are allUsers"),
        (("bkt", "", "user-nobody", "READER"), "entity", "user-EMAIL"),
        (("bkt", "", "allUsers", "WRITER"), "role", "READER and OWNER"),
        (("bkt", "", "allUsers", "OWNER"), "role", "READER only"),
    ],
)
def test_normalize_rejects_with_one_clear_line(raw: tuple[str, ...], field: str, words: str):
    with pytest.raises(spec_mod.InvalidSpecError) as err:
        spec_mod.normalize_spec(*raw)
    assert err.value.field == field
    assert words in str(err.value) and "\n" not in str(err.value)


def test_acl_arithmetic_keeps_other_entries_and_one_role_per_entity():
    owner = {"entity": "project-owners-1", "role": "OWNER", "etag": "x"}
    acl = [owner, {"entity": "allUsers", "role": "READER"}]
    assert spec_mod.holds(acl, "allUsers", "READER")
    assert not spec_mod.holds(acl, "allUsers", "OWNER")
    assert spec_mod.holds([{"entity": "user-a@b.co", "role": "OWNER"}], "user-a@b.co", "READER")
    assert spec_mod.with_grant([owner], "allUsers", "READER") == [
        {"entity": "project-owners-1", "role": "OWNER"},
        PUBLIC,
    ]
    upgraded = spec_mod.with_grant(
        [{"entity": "user-a@b.co", "role": "READER"}], "user-a@b.co", "OWNER"
    )
    assert upgraded == [{"entity": "user-a@b.co", "role": "OWNER"}]
    assert spec_mod.without_grant(acl, "allUsers", "READER") == [
        {"entity": "project-owners-1", "role": "OWNER"}
    ]
    # Revoking READER does not strip an entity that holds another role.
    assert spec_mod.without_grant([owner], "project-owners-1", "READER") == [
        {"entity": "project-owners-1", "role": "OWNER"}
    ]


def test_iam_member_mapping():
    assert spec_mod.iam_member("allUsers") == "allUsers"
    assert spec_mod.iam_member("user-a@b.co") == "user:a@b.co"
    assert spec_mod.iam_member("domain-example.com") == "domain:example.com"


def test_public_defaults_pinned():
    s = spec_mod.RunSettings()
    assert (s.workers, s.page_size, s.retry_deadline_s) == (16, 1000, 60.0)
    assert spec_mod.AclSpec(bucket="b-1") == spec("b-1", "", "allUsers", "READER")

"""infra/gcs_acl/spec.py: validation and normalisation, the ACL rules, pinned defaults."""

from __future__ import annotations

import math
import re
from pathlib import Path

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
    # A role is "at least": revoking READER removes an OWNER too (it could read), revoking
    # OWNER leaves a READER alone.
    assert spec_mod.without_grant([owner], "project-owners-1", "READER") == []
    reader = {"entity": "user-a@b.co", "role": "READER"}
    assert spec_mod.without_grant([reader], "user-a@b.co", "OWNER") == [reader]


def test_iam_member_mapping():
    assert spec_mod.iam_member("allUsers") == "allUsers"
    assert spec_mod.iam_member("user-a@b.co") == "user:a@b.co"
    assert spec_mod.iam_member("domain-example.com") == "domain:example.com"


def test_public_defaults_pinned():
    s = spec_mod.RunSettings()
    assert (s.workers, s.page_size, s.retry_deadline_s) == (16, 1000, 60.0)
    assert (s.connect_timeout_s, s.read_timeout_s, s.progress_interval_s) == (2.5, 60.0, 2.0)
    assert spec_mod.AclSpec(bucket="b-1") == spec("b-1", "", "allUsers", "READER")


# ----------------------------------------------------------------------------- role meaning

ACL_STATES = [
    [],
    [{"entity": "user-a@b.co", "role": "READER"}],
    [{"entity": "user-a@b.co", "role": "OWNER"}],
    [{"entity": "project-owners-1", "role": "OWNER"}, {"entity": "user-a@b.co", "role": "OWNER"}],
]


@pytest.mark.parametrize("acl", ACL_STATES)
@pytest.mark.parametrize("role", ["READER", "OWNER"])
def test_one_meaning_of_role_for_grant_revoke_and_check(acl, role):
    """check R (holds) passes after grant R and fails after revoke R, whatever the entity held;
    grant and revoke change an object exactly when check says they must."""
    s = spec("bkt", entity="user-a@b.co", role=role)
    held = spec_mod.holds(acl, s.entity, role)
    assert spec_mod.needs_change("grant", acl, s) is not held
    assert spec_mod.needs_change("revoke", acl, s) is held
    granted = spec_mod.new_acl("grant", acl, s) if not held else acl
    assert spec_mod.holds(granted, s.entity, role)
    revoked = spec_mod.new_acl("revoke", granted, s)
    assert not spec_mod.holds(revoked, s.entity, role)
    assert not spec_mod.needs_change("revoke", revoked, s)
    # Other entities' entries are never touched.
    others = [e for e in acl if e["entity"] != s.entity]
    assert [e for e in revoked if e["entity"] != s.entity] == others


def test_a_reader_grant_never_downgrades_an_owner():
    owner = [{"entity": "user-a@b.co", "role": "OWNER"}]
    assert not spec_mod.needs_change("grant", owner, spec("bkt", entity="user-a@b.co"))


# ----------------------------------------------------------------------------- bucket names


@pytest.mark.parametrize(
    "name",
    [
        "abc",
        "a" * 63,
        "artifacts.my-proj.appspot.com",
        "us.artifacts.my-proj.appspot.com",
        "my_bucket-1",
        ".".join(["a" * 63] * 3) + "." + "b" * 30,  # 222 characters, 63 per part
        "10.0.0.1.example.com",
    ],
)
def test_valid_bucket_names(name):
    assert spec_mod.normalize_bucket(name) == name
    assert spec_mod.normalize_bucket(f"gs://{name}/") == name


@pytest.mark.parametrize(
    ("name", "words"),
    [
        ("a..b", "dot-separated parts cannot be empty"),
        ("192.168.5.4", "IP address"),
        ("goog-registry", "cannot begin with 'goog'"),
        ("my-google-bucket", "'google' or a close misspelling"),
        ("my-g00gle-bucket", "'google' or a close misspelling"),
        ("ab", "3-63 characters"),
        ("a" * 64, "3-63 characters"),
        ("a" * 64 + ".com", "at most 63 characters"),
        (".".join(["a" * 63] * 3) + "." + "b" * 31, "up to 222"),
        ("-abc", "start and end with a letter or digit"),
        ("abc_", "start and end with a letter or digit"),
        ("a b", "only a-z, 0-9"),
        ("ABC", "only a-z, 0-9"),
        ("bkt/path", "give the object path with --prefix"),
        ("gs://", "it is empty"),
        ("bkt\n", "control character"),
        ("bkt\r", "control character"),
        ("b\x00kt", "control character"),
    ],
)
def test_bucket_names_gcs_refuses_are_refused_before_any_request(name, words):
    with pytest.raises(spec_mod.InvalidSpecError) as err:
        spec_mod.normalize_spec(name)
    text = str(err.value)
    assert err.value.field == "bucket"
    assert words in text, text
    assert "\n" not in text and "\r" not in text


def test_bucket_error_cites_the_gcs_naming_rules():
    with pytest.raises(spec_mod.InvalidSpecError) as err:
        spec_mod.normalize_bucket("a..b")
    assert "https://cloud.google.com/storage/docs/buckets#naming" in str(err.value)


# ----------------------------------------------------------------------------- full matches


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        (("bkt", "", "allUsers\n", "READER"), "entity"),
        (("bkt", "", "user-ops@example.com\n", "READER"), "entity"),
        (("bkt", "", "user-ops\x01@example.com", "READER"), "entity"),
        (("bkt", "", "domain-example.com\n", "READER"), "entity"),
        (("bkt", "", "project-owners-p1\n", "READER"), "entity"),
        (("bkt", "", "group-a@b.co\u2028", "READER"), "entity"),
        (("bkt", "", "allUsers", "READER\n"), "role"),
        (("bkt", "v1/\n", "allUsers", "READER"), "prefix"),
        (("bkt", "v1/\x1b[31m", "allUsers", "READER"), "prefix"),
        (("bkt", "a" * 1025, "allUsers", "READER"), "prefix"),
        (("bkt", "\udc80", "allUsers", "READER"), "prefix"),
    ],
)
def test_trailing_newlines_and_control_characters_are_refused(raw, field):
    with pytest.raises(spec_mod.InvalidSpecError) as err:
        spec_mod.normalize_spec(*raw)
    assert err.value.field == field
    assert "\n" not in str(err.value) and "\x1b" not in str(err.value)


@pytest.mark.parametrize("prefix", ["dir*", "v1/[ab]", "layers/", "ünïcode/", ""])
def test_prefixes_are_literal_text(prefix):
    assert spec("bkt", prefix=prefix).prefix == prefix


@pytest.mark.parametrize("project", ["my-proj", "example.com:my-proj", "p12345"])
def test_valid_projects(project):
    assert spec_mod.normalize_project(project) == project


@pytest.mark.parametrize("project", ["my-proj\n", "My-Proj", "proj", "1proj", "my-proj-", "a" * 31])
def test_invalid_projects(project):
    with pytest.raises(spec_mod.InvalidSpecError) as err:
        spec_mod.normalize_project(project)
    assert err.value.field == "project" and "\n" not in str(err.value)


def test_validators_use_full_matches_only():
    """``re.match``/``.match`` with a ``$`` anchor accepts a trailing newline; every pattern in
    infra/gcs_acl is applied with fullmatch (the behaviour is tested above, this keeps it so)."""
    root = Path(spec_mod.__file__).parent
    for source in sorted(root.glob("*.py")):
        text = source.read_text()
        assert not re.search(r"\.match\(|\.search\([^)]*\$", text), source.name
        assert not re.search(r"""r?["'][^"'\n]*\$["']\)""", text), source.name


# ----------------------------------------------------------------------------- settings


NUMERIC_SETTINGS = [
    "workers",
    "page_size",
    "retry_deadline_s",
    "retry_initial_s",
    "retry_max_s",
    "connect_timeout_s",
    "read_timeout_s",
    "progress_interval_s",
]


@pytest.mark.parametrize("name", NUMERIC_SETTINGS)
@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf, -1, 10**9, True])
def test_every_numeric_setting_needs_a_finite_value_in_range(name, value):
    settings = spec_mod.RunSettings(**{name: value})
    with pytest.raises(spec_mod.InvalidSpecError) as err:
        spec_mod.check_settings(settings)
    assert err.value.field == name
    assert f"{name} must be" in str(err.value) and "\n" not in str(err.value)


def test_whole_number_settings_refuse_fractions_and_defaults_pass():
    with pytest.raises(spec_mod.InvalidSpecError, match="workers must be a whole number"):
        spec_mod.check_settings(spec_mod.RunSettings(workers=2.5))  # type: ignore[arg-type]
    spec_mod.check_settings(spec_mod.RunSettings())
    assert sorted(spec_mod.LIMITS) == sorted(NUMERIC_SETTINGS)  # every one is range-checked
    with pytest.raises(spec_mod.InvalidSpecError, match="must not exceed retry_max_s"):
        spec_mod.check_settings(spec_mod.RunSettings(retry_initial_s=10, retry_max_s=1))

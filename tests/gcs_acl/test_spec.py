"""infra/gcs_acl/spec.py: every input checked and normalised before any request."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from infra.gcs_acl import spec as spec_mod
from infra.gcs_acl.errors import InvalidSpecError


def spec(
    bucket: str, prefix: str = "", entity: str = "allUsers", role: str = "READER"
) -> spec_mod.AclSpec:
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
def test_normalize_accepts_gsutil_spellings(
    raw: tuple[str, ...], expected: tuple[str, str]
) -> None:
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
def test_normalize_rejects_with_one_clear_line(
    raw: tuple[str, ...], field: str, words: str
) -> None:
    with pytest.raises(InvalidSpecError) as err:
        spec_mod.normalize_spec(*raw)
    assert err.value.field == field
    assert words in str(err.value) and "\n" not in str(err.value)


def test_the_spec_defaults_to_public_read_of_the_whole_bucket() -> None:
    assert spec_mod.AclSpec(bucket="b-1") == spec("b-1", "", "allUsers", "READER")


def test_how_a_spec_is_named_in_messages() -> None:
    s = spec("gs://bkt", "v1/", "AllUsers", "R")
    assert (s.where, s.entry) == ("gs://bkt/v1/*", "allUsers:READER")
    assert spec("bkt").nothing_matched() == "the bucket gs://bkt has no objects"
    assert s.nothing_matched().startswith("nothing matched: no object name in gs://bkt starts")
    assert "not globs" in s.nothing_matched()


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
def test_valid_bucket_names(name: str) -> None:
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
def test_bucket_names_gcs_refuses_are_refused_before_any_request(name: str, words: str) -> None:
    with pytest.raises(InvalidSpecError) as err:
        spec_mod.normalize_spec(name)
    text = str(err.value)
    assert err.value.field == "bucket"
    assert words in text, text
    assert "\n" not in text and "\r" not in text


def test_bucket_error_cites_the_gcs_naming_rules() -> None:
    with pytest.raises(InvalidSpecError) as err:
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
def test_trailing_newlines_and_control_characters_are_refused(
    raw: tuple[str, ...], field: str
) -> None:
    with pytest.raises(InvalidSpecError) as err:
        spec_mod.normalize_spec(*raw)
    assert err.value.field == field
    assert "\n" not in str(err.value) and "\x1b" not in str(err.value)


@pytest.mark.parametrize("prefix", ["dir*", "v1/[ab]", "layers/", "ünïcode/", ""])
def test_prefixes_are_literal_text(prefix: str) -> None:
    assert spec("bkt", prefix=prefix).prefix == prefix


@pytest.mark.parametrize("project", ["my-proj", "example.com:my-proj", "p12345"])
def test_valid_projects(project: str) -> None:
    assert spec_mod.normalize_project(project) == project


@pytest.mark.parametrize("project", ["my-proj\n", "My-Proj", "proj", "1proj", "my-proj-", "a" * 31])
def test_invalid_projects(project: str) -> None:
    with pytest.raises(InvalidSpecError) as err:
        spec_mod.normalize_project(project)
    assert err.value.field == "project" and "\n" not in str(err.value)


def test_validators_use_full_matches_only() -> None:
    """``re.match``/``.match`` with a ``$`` anchor accepts a trailing newline; every pattern in
    infra/gcs_acl is applied with fullmatch (the behaviour is tested above, this keeps it so)."""
    root = Path(spec_mod.__file__).parent
    for source in sorted(root.glob("*.py")):
        text = source.read_text()
        assert not re.search(r"\.match\(|\.search\([^)]*\$", text), source.name
        assert not re.search(r"""r?["'][^"'\n]*\$["']\)""", text), source.name

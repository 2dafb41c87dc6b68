"""What to grant where: the spec (bucket, prefix, entity, role) and the checks of every input.

No I/O here. Everything an operator can get wrong about the target (bucket name, prefix, entity,
role, project) is validated before any request, with one-line errors that name the input, the
value and what is allowed. Every pattern is applied with ``fullmatch`` (``re.match`` with ``$``
would accept a trailing newline), and no input may contain a control character or a line break.
What a role means for grant, revoke and check is :mod:`infra.gcs_acl.acl`'s.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from infra.gcs_acl.errors import InvalidSpecError

ENTITY_ALIASES = {"allusers": "allUsers", "allauthenticatedusers": "allAuthenticatedUsers"}
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_DOMAIN = rf"{_LABEL}(?:\.{_LABEL})*\.[A-Za-z]{{2,63}}"
# RFC 5322 "atext" for the local part (printable ASCII, no space, no '@').
_EMAIL = rf"[A-Za-z0-9!#$%&'*+/=?^_`{{|}}~.-]{{1,64}}@{_DOMAIN}"
# ACL entity scopes (GCS access-control docs, docs/upstream.md G2).
_ENTITY_RE = re.compile(
    rf"allUsers|allAuthenticatedUsers|(?:user|group)-{_EMAIL}|domain-{_DOMAIN}"
    r"|project-(?:owners|editors|viewers)-[a-z0-9][a-z0-9-]{0,62}"
)
# Object ACLs know two roles (WRITER exists for buckets only); gsutil's R/O shorthands accepted.
ROLE_ALIASES = {"r": "READER", "reader": "READER", "o": "OWNER", "owner": "OWNER"}
# GCS's bucket naming rules, checked in their order:
BUCKET_RULES_URL = "https://cloud.google.com/storage/docs/buckets#naming"
_BUCKET_CHARS = re.compile(r"[a-z0-9._-]+")
_IPV4 = re.compile(r"[0-9]{1,3}(?:\.[0-9]{1,3}){3}")
_GOOGLE = re.compile(r"g[o0][o0]g[l1][e3]")  # "google" and close misspellings such as "g00gle"
# Project IDs: 6-30 of a-z, 0-9, '-', starting with a letter, not ending with '-', optionally
# with the legacy "domain:" prefix (example.com:my-project); docs/upstream.md G3.
_PROJECT_RE = re.compile(r"(?:[a-z0-9][a-z0-9.-]{0,61}[a-z0-9]:)?[a-z][a-z0-9-]{4,28}[a-z0-9]")
MAX_OBJECT_NAME_BYTES = 1024  # GCS object names (and so prefixes) are at most 1,024 UTF-8 bytes

Action = Literal["grant", "revoke"]


@dataclass(frozen=True, kw_only=True)
class AclSpec:
    """One ACL entry on the objects of one bucket under one prefix."""

    bucket: str
    """Bucket name, without ``gs://``."""
    prefix: str = ""
    """Only objects whose name starts with this ("" = every object). Literal, not a glob."""
    entity: str = "allUsers"
    """ACL entity: allUsers, allAuthenticatedUsers, user-EMAIL, group-EMAIL, domain-DOMAIN,
    project-(owners|editors|viewers)-ID."""
    role: str = "READER"
    """READER or OWNER (object ACL roles): at least this access (:mod:`infra.gcs_acl.acl`)."""

    @property
    def where(self) -> str:
        """``gs://bucket/prefix*`` for messages."""
        return f"gs://{self.bucket}/{self.prefix}*"

    @property
    def entry(self) -> str:
        """``entity:role`` for messages."""
        return f"{self.entity}:{self.role}"

    def nothing_matched(self) -> str:
        """What to say when no object is under the prefix."""
        if not self.prefix:
            return f"the bucket gs://{self.bucket} has no objects"
        return (
            f"nothing matched: no object name in gs://{self.bucket} starts with "
            f"{self.prefix!r} (prefixes are literal, not globs: '*', '?' and '[' match "
            "themselves)"
        )


def control_character(text: str) -> str | None:
    """The first control character or line break in ``text`` (as ``repr``), else None."""
    for ch in text:
        if unicodedata.category(ch) in ("Cc", "Zl", "Zp"):
            return repr(ch)
    return None


def _checked_text(value: str, what: str, field_name: str) -> str:
    if not isinstance(value, str):
        raise InvalidSpecError(f"{what} must be text, got {type(value).__name__}", field_name)
    bad = control_character(value)
    if bad is not None:
        raise InvalidSpecError(
            f"invalid {what} {value!r}: contains the control character {bad}; "
            "no control characters or line breaks are allowed",
            field_name,
        )
    return value


_BUCKET_RULES: tuple[tuple[Callable[[str], object], str], ...] = (
    (lambda name: not name, "it is empty"),
    (lambda name: "/" in name, "a bucket name has no '/' (give the object path with --prefix)"),
    (
        lambda name: not _BUCKET_CHARS.fullmatch(name),
        "only a-z, 0-9, '-', '_' and '.' are allowed (no upper case, no spaces)",
    ),
    (
        lambda name: not (name[0].isalnum() and name[-1].isalnum()),
        "it must start and end with a letter or digit",
    ),
    (
        lambda name: not 3 <= len(name) <= (222 if "." in name else 63),
        "it must have 3-63 characters (up to 222 if it contains dots)",
    ),
    (lambda name: "" in name.split("."), "dot-separated parts cannot be empty ('..')"),
    (
        lambda name: any(len(part) > 63 for part in name.split(".")),
        "each dot-separated part can have at most 63 characters",
    ),
    (_IPV4.fullmatch, "it cannot be an IP address in dotted-decimal notation"),
    (lambda name: name.startswith("goog"), "it cannot begin with 'goog'"),
    (_GOOGLE.search, "it cannot contain 'google' or a close misspelling such as 'g00gle'"),
)
"""(broken by ``name``, why), in the order of :data:`BUCKET_RULES_URL`: each rule may assume
the ones before it hold."""


def bucket_problem(name: str) -> str | None:
    """Why GCS would refuse ``name`` as a bucket name (the first rule it breaks), or None when
    it is a valid name."""
    bad = control_character(name)
    if bad is not None:
        return f"it contains the control character {bad}"
    return next((why for broken, why in _BUCKET_RULES if broken(name)), None)


def normalize_bucket(bucket: str) -> str:
    """``bucket`` without ``gs://``, or :class:`InvalidSpecError` naming the rule it breaks."""
    if not isinstance(bucket, str):
        raise InvalidSpecError(f"bucket must be text, got {type(bucket).__name__}", "bucket")
    name = bucket.removeprefix("gs://").rstrip("/")
    problem = bucket_problem(name)
    if problem is not None:
        raise InvalidSpecError(
            f"invalid bucket name {name!r}: {problem} (GCS bucket names are 3-63 characters, "
            "222 if dotted, of a-z, 0-9, '-', '_', '.'; see "
            f"{BUCKET_RULES_URL})",
            field="bucket",
        )
    return name


def normalize_prefix(prefix: str) -> str:
    """``prefix`` unchanged if an object name could start with it, else InvalidSpecError."""
    prefix = _checked_text(prefix, "prefix", "prefix")
    try:
        size = len(prefix.encode("utf-8"))
    except UnicodeEncodeError:
        raise InvalidSpecError(
            f"invalid prefix {prefix!r}: it is not valid UTF-8 text", "prefix"
        ) from None
    if size > MAX_OBJECT_NAME_BYTES:
        raise InvalidSpecError(
            f"invalid prefix ({size} bytes): object names are at most "
            f"{MAX_OBJECT_NAME_BYTES} bytes of UTF-8",
            "prefix",
        )
    return prefix


def normalize_entity(entity: str) -> str:
    """The API spelling of ``entity`` (``AllUsers`` -> ``allUsers``) or InvalidSpecError."""
    entity = _checked_text(entity, "entity", "entity")
    entity = ENTITY_ALIASES.get(entity.lower(), entity)
    if not _ENTITY_RE.fullmatch(entity):
        raise InvalidSpecError(
            f"invalid entity {entity!r}: allowed are allUsers, allAuthenticatedUsers, "
            "user-EMAIL, group-EMAIL, domain-DOMAIN, project-(owners|editors|viewers)-ID",
            field="entity",
        )
    return entity


def normalize_role(role: str) -> str:
    """READER or OWNER (``R``/``O``/any case accepted) or :class:`InvalidSpecError`."""
    role = _checked_text(role, "role", "role")
    norm = ROLE_ALIASES.get(role.lower())
    if norm is None:
        raise InvalidSpecError(
            f"invalid role {role!r}: object ACL roles are READER and OWNER", field="role"
        )
    return norm


def normalize_project(project: str | None) -> str | None:
    """A GCP project ID (or None) unchanged, or :class:`InvalidSpecError`."""
    if project is None:
        return None
    project = _checked_text(project, "project", "project")
    if not _PROJECT_RE.fullmatch(project):
        raise InvalidSpecError(
            f"invalid project {project!r}: a project ID is 6-30 characters of a-z, 0-9 and "
            "'-', starting with a letter and not ending with '-'",
            field="project",
        )
    return project


def normalize_spec(
    bucket: str, prefix: str = "", entity: str = "allUsers", role: str = "READER"
) -> AclSpec:
    """Validate and normalise every field (``AllUsers``, ``R`` and ``gs://`` accepted) or raise."""
    entity = normalize_entity(entity)
    norm_role = normalize_role(role)
    if entity in ENTITY_ALIASES.values() and norm_role == "OWNER":
        raise InvalidSpecError(f"{entity} cannot be an OWNER: GCS allows READER only", field="role")
    return AclSpec(
        bucket=normalize_bucket(bucket),
        prefix=normalize_prefix(prefix),
        entity=entity,
        role=norm_role,
    )

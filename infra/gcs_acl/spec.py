"""What to grant and how: the spec, run settings, results, errors and the pure ACL rules.

No I/O here: :mod:`infra.gcs_acl.engine` talks to GCS. Everything an operator can get wrong
(bucket name, entity, role, settings) is validated here, with one-line errors that name the
input, the value and what is allowed.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

ENTITY_ALIASES = {"allusers": "allUsers", "allauthenticatedusers": "allAuthenticatedUsers"}
_ENTITY_RE = re.compile(
    r"^(allUsers|allAuthenticatedUsers"
    r"|(user|group)-[^@\s]+@[^@\s]+\.[^@\s]+"
    r"|domain-[a-z0-9.-]+\.[a-z]{2,}"
    r"|project-(owners|editors|viewers)-[a-z0-9-]+)$"
)
# Object ACLs know two roles (WRITER exists for buckets only); gsutil's R/O shorthands accepted.
ROLE_ALIASES = {"r": "READER", "reader": "READER", "o": "OWNER", "owner": "OWNER"}
_ROLE_RANK = {"READER": 1, "WRITER": 2, "OWNER": 3}
# Bucket names: 3-63 characters, or up to 222 when dotted with 63-character components.
_BUCKET_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{1,220}[a-z0-9]$")
SAMPLE = 100  # names of objects lacking the entry kept by a scan
IAM_ROLE_FOR = {"READER": "roles/storage.objectViewer", "OWNER": "roles/storage.objectAdmin"}

Action = Literal["grant", "revoke"]


class GcsAclError(Exception):
    """A failure an operator can act on; ``str()`` is one line. ``summary`` is the progress made."""

    def __init__(self, message: str, summary: Summary | None = None) -> None:
        super().__init__(message)
        self.summary = summary


class InvalidSpecError(GcsAclError):
    """A bucket name, entity, role or setting that GCS would reject; nothing was sent."""

    def __init__(self, message: str, field: str = "") -> None:
        super().__init__(message)
        self.field = field
        """The input at fault (bucket, entity, role, ...)."""


class BucketNotFoundError(GcsAclError):
    """The bucket does not exist (or these credentials cannot see it); nothing changed."""


class AccessDeniedError(GcsAclError):
    """GCS answered 403 Forbidden."""


class UniformAccessError(GcsAclError):
    """Uniform bucket-level access is on: object ACLs are disabled, IAM is the way."""


class CredentialsError(GcsAclError):
    """No application default credentials were found."""


class TransportError(GcsAclError):
    """GCS (or the emulator) stayed unreachable or kept failing after all retries."""


class RequestError(GcsAclError):
    """GCS rejected a request for another reason (the API's message is included)."""


class InterruptedRunError(GcsAclError):
    """The operator interrupted the run (Ctrl-C); requests in flight were let finish."""


@dataclass(frozen=True, kw_only=True)
class AclSpec:
    """One ACL entry on the objects of one bucket under one prefix."""

    bucket: str
    """Bucket name, without ``gs://``."""
    prefix: str = ""
    """Only objects whose name starts with this ("" = every object)."""
    entity: str = "allUsers"
    """ACL entity: allUsers, allAuthenticatedUsers, user-EMAIL, group-EMAIL, domain-DOMAIN,
    project-(owners|editors|viewers)-ID."""
    role: str = "READER"
    """READER or OWNER (object ACL roles)."""

    @property
    def where(self) -> str:
        """``gs://bucket/prefix*`` for messages."""
        return f"gs://{self.bucket}/{self.prefix}*"

    @property
    def entry(self) -> str:
        """``entity:role`` for messages."""
        return f"{self.entity}:{self.role}"


@dataclass(frozen=True, kw_only=True)
class RunSettings:
    """How a run talks to GCS. Defaults suit real GCS; tests shorten the retry deadline."""

    project: str | None = None
    """Project for the client (ADC's default project when None); objects need none."""
    workers: int = 16
    """Object patches in flight at once (1 = a sequential loop)."""
    page_size: int = 1000
    """Objects per list page (GCS's maximum is 1,000)."""
    retry_deadline_s: float = 60.0
    """Seconds one request keeps retrying 429/5xx/connection failures before the run stops."""
    retry_initial_s: float = 0.25
    """First backoff delay in seconds (doubles, with jitter, up to ``retry_max_s``)."""
    retry_max_s: float = 8.0
    """Longest single backoff delay in seconds."""
    progress_interval_s: float = 2.0
    """Seconds between progress reports, given after a list page (0 = after every page)."""


@dataclass
class Summary:
    """What a grant or revoke did. Counts are objects under the prefix."""

    action: Action
    spec: AclSpec
    scanned: int = 0
    """Objects listed."""
    changed: int = 0
    """Objects whose ACL this run changed."""
    already: int = 0
    """Objects that already were as asked (held the grant; or, for revoke, did not)."""
    failed: int = 0
    """Objects whose change failed (their names are in ``failures``)."""
    vanished: int = 0
    """Objects deleted between listing and patching (nothing to do)."""
    pages: int = 0
    """List pages read."""
    elapsed_s: float = 0.0
    failures: list[tuple[str, str]] = field(default_factory=list)
    """(object name, reason) for the first failures."""
    complete: bool = False
    """True once every page was listed and every change attempted."""

    def line(self) -> str:
        """The one-line summary printed at the end of a run."""
        already = {
            ("grant", True): "already public",
            ("grant", False): "already granted",
            ("revoke", True): "already private",
            ("revoke", False): "already revoked",
        }[(self.action, self.spec.entity in ENTITY_ALIASES.values())]
        text = (
            f"{self.action} {self.spec.entry} on {self.spec.where}: scanned {self.scanned}, "
            f"changed {self.changed}, {already} {self.already}, failed {self.failed}"
        )
        if self.vanished:
            text += f", vanished {self.vanished}"
        text += f" ({self.pages} pages, {self.elapsed_s:.1f}s)"
        if self.complete and self.changed == 0 and self.failed == 0:
            text += " - nothing to change, already up to date"
        elif not self.complete:
            text += " - INCOMPLETE, re-run to finish"
        return text


@dataclass
class Scan:
    """Which objects under the prefix hold the entry (no changes made)."""

    spec: AclSpec
    scanned: int = 0
    holding: int = 0
    """Objects that hold the entry (with the role or a higher one)."""
    missing: int = 0
    """Objects that lack it."""
    sample: list[str] = field(default_factory=list)
    """Names of the first ``SAMPLE`` objects that lack it (memory stays flat)."""
    pages: int = 0


@dataclass(frozen=True)
class Finding:
    """One line of ``check``: a place that is (or is not) as asked."""

    ok: bool
    what: str
    detail: str


@dataclass
class CheckReport:
    """Everything ``check`` looked at; ``ok`` only if every finding is."""

    spec: AclSpec
    uniform_access: bool
    findings: list[Finding]
    scan: Scan | None

    @property
    def ok(self) -> bool:
        """True when the bucket is public the way ``spec`` asks."""
        return all(f.ok for f in self.findings)


ProgressFn = Callable[[str], None]


# ----------------------------------------------------------------------------- validation


def normalize_bucket(bucket: str) -> str:
    """``bucket`` without ``gs://``, or :class:`InvalidSpecError` naming what is allowed."""
    bucket = bucket.removeprefix("gs://").rstrip("/")
    if not _BUCKET_RE.match(bucket) or any(len(p) > 63 for p in bucket.split(".")):
        raise InvalidSpecError(
            f"invalid bucket name {bucket!r}: 3-63 characters (222 if dotted, 63 per part) of "
            "a-z, 0-9, '-', '_', '.', starting and ending with a letter or digit",
            field="bucket",
        )
    return bucket


def normalize_entity(entity: str) -> str:
    """The API spelling of ``entity`` (``AllUsers`` -> ``allUsers``) or InvalidSpecError."""
    entity = ENTITY_ALIASES.get(entity.lower(), entity)
    if not _ENTITY_RE.match(entity):
        raise InvalidSpecError(
            f"invalid entity {entity!r}: allowed are allUsers, allAuthenticatedUsers, "
            "user-EMAIL, group-EMAIL, domain-DOMAIN, project-(owners|editors|viewers)-ID",
            field="entity",
        )
    return entity


def normalize_role(role: str) -> str:
    """READER or OWNER (``R``/``O``/any case accepted) or :class:`InvalidSpecError`."""
    norm = ROLE_ALIASES.get(role.lower())
    if norm is None:
        raise InvalidSpecError(
            f"invalid role {role!r}: object ACL roles are READER and OWNER", field="role"
        )
    return norm


def normalize_spec(
    bucket: str, prefix: str = "", entity: str = "allUsers", role: str = "READER"
) -> AclSpec:
    """Validate and normalise every field (``AllUsers``, ``R`` and ``gs://`` accepted) or raise."""
    entity = normalize_entity(entity)
    norm_role = normalize_role(role)
    if entity in ENTITY_ALIASES.values() and norm_role == "OWNER":
        raise InvalidSpecError(f"{entity} cannot be an OWNER: GCS allows READER only", field="role")
    return AclSpec(bucket=normalize_bucket(bucket), prefix=prefix, entity=entity, role=norm_role)


def check_settings(settings: RunSettings) -> None:
    """Raise InvalidSpecError for settings outside what the engine (and GCS) allow."""
    if settings.workers < 1 or settings.workers > 256:
        raise InvalidSpecError(f"workers must be 1..256, got {settings.workers}", "workers")
    if not 1 <= settings.page_size <= 1000:
        raise InvalidSpecError(f"page size must be 1..1000, got {settings.page_size}", "page_size")
    if settings.retry_deadline_s <= 0:
        raise InvalidSpecError(
            f"retry deadline must be > 0 s, got {settings.retry_deadline_s}", "retry_deadline_s"
        )


# ----------------------------------------------------------------------------- ACL helpers


def holds(acl: list[dict[str, Any]], entity: str, role: str) -> bool:
    """True if ``acl`` gives ``entity`` the role or a higher one."""
    return any(
        e.get("entity") == entity and _ROLE_RANK.get(e.get("role", ""), 0) >= _ROLE_RANK[role]
        for e in acl
    )


def with_grant(acl: list[dict[str, Any]], entity: str, role: str) -> list[dict[str, str]]:
    """``acl`` (entity/role only) with ``entity`` set to ``role`` (GCS keeps one per entity)."""
    kept = [_bare(e) for e in acl if e.get("entity") != entity]
    return [*kept, {"entity": entity, "role": role}]


def without_grant(acl: list[dict[str, Any]], entity: str, role: str) -> list[dict[str, str]]:
    """``acl`` (entity/role only) without ``entity``'s entry if it is exactly ``role``."""
    return [_bare(e) for e in acl if not (e.get("entity") == entity and e.get("role") == role)]


def _bare(entry: dict[str, Any]) -> dict[str, str]:
    # Read-only fields (etag, id, selfLink, ...) are not sent back.
    return {"entity": str(entry["entity"]), "role": str(entry["role"])}


def needs_change(action: Action, acl: list[dict[str, Any]], spec: AclSpec) -> bool:
    """Whether ``action`` would change an object with this ACL."""
    if action == "grant":
        return not holds(acl, spec.entity, spec.role)
    return any(e.get("entity") == spec.entity and e.get("role") == spec.role for e in acl)


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

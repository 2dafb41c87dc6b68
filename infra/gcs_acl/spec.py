"""What to grant and how: the spec, run settings, results, errors and the pure ACL rules.

No I/O here: :mod:`infra.gcs_acl.engine` talks to GCS. Everything an operator can get wrong
(bucket name, prefix, entity, role, project, settings) is validated here, before any request,
with one-line errors that name the input, the value and what is allowed. Every pattern is
applied with ``fullmatch`` (``re.match`` with ``$`` would accept a trailing newline), and no
input may contain a control character or a line break.

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

import math
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from typing import Any, Literal

ENTITY_ALIASES = {"allusers": "allUsers", "allauthenticatedusers": "allAuthenticatedUsers"}
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_DOMAIN = rf"{_LABEL}(?:\.{_LABEL})*\.[A-Za-z]{{2,63}}"
# RFC 5322 "atext" for the local part (printable ASCII, no space, no '@').
_EMAIL = rf"[A-Za-z0-9!#$%&'*+/=?^_`{{|}}~.-]{{1,64}}@{_DOMAIN}"
# ACL entity scopes: https://cloud.google.com/storage/docs/access-control/lists#scopes
_ENTITY_RE = re.compile(
    rf"allUsers|allAuthenticatedUsers|(?:user|group)-{_EMAIL}|domain-{_DOMAIN}"
    r"|project-(?:owners|editors|viewers)-[a-z0-9][a-z0-9-]{0,62}"
)
# Object ACLs know two roles (WRITER exists for buckets only); gsutil's R/O shorthands accepted.
ROLE_ALIASES = {"r": "READER", "reader": "READER", "o": "OWNER", "owner": "OWNER"}
_ROLE_RANK = {"READER": 1, "WRITER": 2, "OWNER": 3}
# Bucket naming rules, https://cloud.google.com/storage/docs/buckets#naming (checked in order).
BUCKET_RULES_URL = "https://cloud.google.com/storage/docs/buckets#naming"
_BUCKET_CHARS = re.compile(r"[a-z0-9._-]+")
_IPV4 = re.compile(r"[0-9]{1,3}(?:\.[0-9]{1,3}){3}")
_GOOGLE = re.compile(r"g[o0][o0]g[l1][e3]")  # "google" and close misspellings such as "g00gle"
# Project IDs: 6-30 of a-z, 0-9, '-', starting with a letter, not ending with '-'
# (https://cloud.google.com/resource-manager/docs/creating-managing-projects), optionally with
# the legacy "domain:" prefix (example.com:my-project).
_PROJECT_RE = re.compile(r"(?:[a-z0-9][a-z0-9.-]{0,61}[a-z0-9]:)?[a-z][a-z0-9-]{4,28}[a-z0-9]")
MAX_OBJECT_NAME_BYTES = 1024  # GCS object names (and so prefixes) are at most 1,024 UTF-8 bytes
SAMPLE = 100  # names of objects lacking the entry kept by a scan
IAM_ROLE_FOR = {"READER": "roles/storage.objectViewer", "OWNER": "roles/storage.objectAdmin"}

Action = Literal["grant", "revoke"]


class GcsAclError(Exception):
    """A failure an operator can act on; ``str()`` is one line. ``summary`` (grant/revoke) or
    ``scan`` (check/scan) is the progress made before it."""

    def __init__(
        self, message: str, summary: Summary | None = None, scan: Scan | None = None
    ) -> None:
        super().__init__(message)
        self.summary = summary
        self.scan = scan

    def partial(self) -> str | None:
        """The partial-progress line, or None when the run had not started."""
        if self.summary is not None:
            return self.summary.line()
        if self.scan is not None:
            return self.scan.line()
        return None


class InvalidSpecError(GcsAclError):
    """A bucket name, prefix, entity, role or setting that GCS would reject; nothing was sent."""

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
    """Only objects whose name starts with this ("" = every object). Literal, not a glob."""
    entity: str = "allUsers"
    """ACL entity: allUsers, allAuthenticatedUsers, user-EMAIL, group-EMAIL, domain-DOMAIN,
    project-(owners|editors|viewers)-ID."""
    role: str = "READER"
    """READER or OWNER (object ACL roles); at least this access, see the module docstring."""

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


@dataclass(frozen=True, kw_only=True)
class RunSettings:
    """How a run talks to GCS. Defaults suit real GCS; tests shorten the retry deadline."""

    project: str | None = None
    """Project for the client (ADC's default project when None); objects need none."""
    workers: int = 16
    """Most object requests in flight at once (1 = a sequential loop). The run starts with one
    and adapts between 1 and this (see :mod:`infra.gcs_acl.engine`)."""
    page_size: int = 1000
    """Objects per list page (GCS's maximum is 1,000)."""
    retry_deadline_s: float = 60.0
    """Seconds one request keeps retrying 429/5xx/connection failures and timeouts before the
    run stops (time spent queued behind other requests does not count)."""
    retry_initial_s: float = 0.25
    """First backoff delay in seconds (doubles, with jitter, up to ``retry_max_s``)."""
    retry_max_s: float = 8.0
    """Longest single backoff delay in seconds."""
    connect_timeout_s: float = 2.5
    """Seconds to open a connection (TCP and TLS handshakes); past it the attempt counts as a
    refusal (retried, and the requests in flight are halved). A backend with a full listen queue
    drops connection attempts, which the kernel repeats 1 s later, then 2 s after that: at
    2.5 s, two dropped attempts in a row are a pushback (at 5 s it took three, and a run asking
    for 64 requests in flight was twice as slow on the overloaded emulator)."""
    read_timeout_s: float = 60.0
    """Seconds to wait for an answer once connected (google-cloud-storage's default)."""
    progress_interval_s: float = 2.0
    """Seconds between progress reports (0 = as often as there is news)."""


@dataclass(frozen=True)
class Limit:
    """The allowed range of one numeric setting, and its command-line flag if it has one."""

    low: float
    high: float
    whole: bool = False
    """A whole number (else any finite decimal number)."""
    low_open: bool = False
    """``low`` itself is not allowed (``> low`` rather than ``>= low``)."""
    flag: str = ""
    unit: str = ""

    def describe(self) -> str:
        """``a whole number from 1 to 256``, ``a number of seconds > 0 and <= 3600``."""
        kind = "a whole number" if self.whole else "a finite number"
        if self.unit:
            kind += f" of {self.unit}"
        low = f"> {self.low:g} and <=" if self.low_open else f"from {self.low:g} to"
        return f"{kind} {low} {self.high:g}"

    def allows(self, value: object) -> bool:
        """Whether ``value`` is finite, whole if need be, and inside the range."""
        if isinstance(value, bool) or not isinstance(value, int | float):
            return False
        if not math.isfinite(value) or (self.whole and not float(value).is_integer()):
            return False
        above = value > self.low if self.low_open else value >= self.low
        return above and value <= self.high


LIMITS: dict[str, Limit] = {
    "workers": Limit(1, 256, whole=True, flag="--workers"),
    "page_size": Limit(1, 1000, whole=True),
    "retry_deadline_s": Limit(0, 3600, low_open=True, flag="--retry-deadline", unit="seconds"),
    "retry_initial_s": Limit(0, 60, low_open=True, unit="seconds"),
    "retry_max_s": Limit(0, 600, low_open=True, unit="seconds"),
    "connect_timeout_s": Limit(0, 600, low_open=True, unit="seconds"),
    "read_timeout_s": Limit(0, 3600, low_open=True, unit="seconds"),
    "progress_interval_s": Limit(0, 3600, flag="--progress-interval", unit="seconds"),
}
"""Every numeric setting of :class:`RunSettings` and what it allows (finite, in range)."""


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
    """Objects whose change failed for a reason of their own (names in ``failures``)."""
    undone: int = 0
    """Objects listed that needed a change this run did not make: still queued when the run
    stopped, stopped between retries, or in flight when a second Ctrl-C stopped the wait."""
    vanished: int = 0
    """Objects deleted between listing and patching (nothing to do)."""
    pages: int = 0
    """List pages read."""
    listed_all: bool = False
    """True once the last list page was read (else objects not yet listed are not counted)."""
    pushbacks: int = 0
    """Requests the backend refused, timed out or answered 429/5xx (each was retried)."""
    lowest_in_flight: int = 0
    """The fewest requests in flight the run went down to after a pushback (0 = none)."""
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
        if not self.complete or self.undone:
            text += f", left undone {self.undone}"
        if self.vanished:
            text += f", vanished {self.vanished}"
        text += f" ({self.pages} pages, {self.elapsed_s:.1f}s)"
        if self.pushbacks:
            text += (
                f" - backend pushed back {self.pushbacks} times, requests in flight lowered "
                f"to {self.lowest_in_flight}"
            )
        if not self.complete:
            text += " - INCOMPLETE, re-run to finish"
            if not self.listed_all:
                text += " (the listing stopped early: objects not yet listed are not counted)"
        elif self.scanned == 0 and not self.vanished:
            text += f" - {self.spec.nothing_matched()}"
        elif self.changed == 0 and self.failed == 0:
            text += " - nothing to change, already up to date"
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

    def line(self) -> str:
        """One line for a scan that stopped early (nothing is ever changed by a scan)."""
        return (
            f"check {self.spec.entry} on {self.spec.where}: scanned {self.scanned} "
            f"({self.pages} pages), holding {self.holding}, lacking {self.missing} - "
            "INCOMPLETE, nothing changed"
        )


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


def bucket_problem(name: str) -> str | None:
    """Why GCS would refuse ``name`` as a bucket name (its naming rules, in the order of
    :data:`BUCKET_RULES_URL`), or None when it is a valid name."""
    bad = control_character(name)
    if bad is not None:
        return f"it contains the control character {bad}"
    if not name:
        return "it is empty"
    if "/" in name:
        return "a bucket name has no '/' (give the object path with --prefix)"
    if not _BUCKET_CHARS.fullmatch(name):
        return "only a-z, 0-9, '-', '_' and '.' are allowed (no upper case, no spaces)"
    if not (name[0].isalnum() and name[-1].isalnum()):
        return "it must start and end with a letter or digit"
    parts = name.split(".")
    if not 3 <= len(name) <= (63 if len(parts) == 1 else 222):
        return "it must have 3-63 characters (up to 222 if it contains dots)"
    if any(not part for part in parts):
        return "dot-separated parts cannot be empty ('..')"
    if any(len(part) > 63 for part in parts):
        return "each dot-separated part can have at most 63 characters"
    if _IPV4.fullmatch(name):
        return "it cannot be an IP address in dotted-decimal notation"
    if name.startswith("goog"):
        return "it cannot begin with 'goog'"
    if _GOOGLE.search(name):
        return "it cannot contain 'google' or a close misspelling such as 'g00gle'"
    return None


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


def setting_problem(name: str, value: object) -> str | None:
    """Why ``value`` is not allowed for the numeric setting ``name``, or None."""
    limit = LIMITS[name]
    if limit.allows(value):
        return None
    return f"{name} must be {limit.describe()}, got {value!r}"


def check_settings(settings: RunSettings) -> None:
    """Raise InvalidSpecError for settings outside what the engine (and GCS) allow."""
    for f in fields(settings):
        if f.name in LIMITS:
            problem = setting_problem(f.name, getattr(settings, f.name))
            if problem is not None:
                raise InvalidSpecError(problem, f.name)
    if settings.retry_initial_s > settings.retry_max_s:
        raise InvalidSpecError(
            f"retry_initial_s ({settings.retry_initial_s:g}) must not exceed retry_max_s "
            f"({settings.retry_max_s:g})",
            "retry_initial_s",
        )
    normalize_project(settings.project)


# ----------------------------------------------------------------------------- ACL helpers


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

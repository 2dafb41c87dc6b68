"""Look without changing anything: :func:`scan` (which objects lack the entry: the dynamic
provider's drift check) and :func:`check` (is the bucket public as asked: bucket ACL, default
object ACL and every object; or, under uniform bucket-level access, the IAM binding).

On Ctrl-C both raise :class:`~infra.gcs_acl.errors.InterruptedRunError` with what was scanned
so far.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import google.cloud.storage as storage
from google.api_core import exceptions as api_exceptions

from infra.gcs_acl.acl import IAM_ROLE_FOR, holds, iam_member
from infra.gcs_acl.client import (
    Gcs,
    Listed,
    pages,
    refuse_uniform_access,
    session,
    translate,
    uniform_access,
)
from infra.gcs_acl.errors import InterruptedRunError
from infra.gcs_acl.results import SAMPLE, CheckReport, Finding, Scan
from infra.gcs_acl.settings import RunSettings
from infra.gcs_acl.spec import AclSpec


def scan(spec: AclSpec, settings: RunSettings | None = None) -> Scan:
    """List every object under the prefix and report which lack the entry (changes nothing).

    Raises like :func:`~infra.gcs_acl.grant.apply` for a missing bucket, 403 and uniform
    bucket-level access, and :class:`InterruptedRunError` (with the partial scan) on Ctrl-C.
    """
    result = Scan(spec=spec)
    with _interruptible("scan", spec, result), session(spec, settings) as (gcs, bucket):
        if uniform_access(bucket):
            raise refuse_uniform_access(spec)
        return _scan(gcs, spec, result)


def check(spec: AclSpec, settings: RunSettings | None = None) -> CheckReport:
    """Is the bucket public as asked? Bucket ACL, default object ACL and objects; or, under
    uniform bucket-level access, the IAM binding. Raises for a missing bucket or 403, and
    :class:`InterruptedRunError` (with what was scanned so far) on Ctrl-C."""
    result = Scan(spec=spec)
    with _interruptible("check", spec, result), session(spec, settings) as (gcs, bucket):
        try:
            if uniform_access(bucket):
                return CheckReport(spec, True, [_iam_finding(gcs, spec, bucket)], None)
            findings = _bucket_findings(gcs, spec, bucket)
        except Exception as err:
            raise translate(err, spec, gcs, "reading the bucket ACLs") from err
        _scan(gcs, spec, result)
        findings.append(_objects_finding(spec, result))
        return CheckReport(spec, False, findings, result)


@contextlib.contextmanager
def _interruptible(what: str, spec: AclSpec, partial: Scan) -> Iterator[None]:
    """Ctrl-C inside becomes an InterruptedRunError carrying the partial scan."""
    try:
        yield
    except KeyboardInterrupt:
        raise InterruptedRunError(
            f"interrupted during {what} on {spec.where}; nothing changed", scan=partial
        ) from None


def _scan(gcs: Gcs, spec: AclSpec, result: Scan) -> Scan:
    def count_page() -> None:
        result.pages += 1

    try:
        for page in pages(gcs, spec, count_page):
            for item in page:
                _look_at(gcs, spec, item, result)
    except Exception as err:
        raise translate(err, spec, gcs, f"listing {spec.where}") from err
    return result


def _look_at(gcs: Gcs, spec: AclSpec, item: Listed, result: Scan) -> None:
    """Count one listed object as holding or lacking the entry (its ACL read afresh when the
    listing omitted it; an object deleted meanwhile is not counted)."""
    acl = item.acl
    if acl is None:
        try:
            acl = gcs.reload(gcs.client().bucket(spec.bucket).blob(item.name))
        except api_exceptions.NotFound:
            return
    result.scanned += 1
    if holds(acl, spec.entity, spec.role):
        result.holding += 1
    else:
        result.missing += 1
        if len(result.sample) < SAMPLE:
            result.sample.append(item.name)


def _iam_finding(gcs: Gcs, spec: AclSpec, bucket: storage.Bucket) -> Finding:
    """Under uniform bucket-level access: whether the entity's member has the matching role."""
    iam_role = IAM_ROLE_FOR[spec.role]
    member = iam_member(spec.entity)
    policy = gcs.call(lambda: bucket.get_iam_policy(retry=None, timeout=gcs.timeout))
    bound = member in policy.get(iam_role, set())
    return Finding(
        bound,
        "IAM binding",
        f"{member} {'has' if bound else 'lacks'} {iam_role} on "
        f"gs://{spec.bucket} (uniform bucket-level access: ACLs do not apply)",
    )


def _bucket_findings(gcs: Gcs, spec: AclSpec, bucket: storage.Bucket) -> list[Finding]:
    """The bucket ACL (the entity can list) and the default object ACL (new objects)."""
    gcs.call(lambda: bucket.acl.reload(retry=None, timeout=gcs.timeout))
    listing = holds(list(bucket.acl), spec.entity, "READER")
    gcs.call(lambda: bucket.default_object_acl.reload(retry=None, timeout=gcs.timeout))
    default = holds(list(bucket.default_object_acl), spec.entity, spec.role)
    return [
        Finding(
            listing,
            "bucket ACL",
            f"{spec.entity} {'has' if listing else 'lacks'} READER on gs://{spec.bucket}"
            + ("" if listing else " (it cannot list the objects)"),
        ),
        Finding(
            default,
            "default object ACL",
            f"{spec.entity} {'has' if default else 'lacks'} {spec.role} in the default "
            "object ACL" + ("" if default else " (new objects will not be public)"),
        ),
    ]


def _objects_finding(spec: AclSpec, result: Scan) -> Finding:
    if result.scanned == 0:
        # An empty bucket is as public as it can be; a prefix that matches nothing is a mistake.
        return Finding(not spec.prefix, "objects", spec.nothing_matched())
    missing = result.missing
    shown = ", ".join(result.sample[:10]) + (" ..." if missing > 10 else "")
    return Finding(
        missing == 0,
        "objects",
        f"{result.holding} of {result.scanned} objects under {spec.where} hold "
        f"{spec.entry}" + (f"; {missing} lack it: {shown}" if missing else ""),
    )

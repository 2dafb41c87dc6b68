"""infra/gcs_acl/errors.py: every error carries the progress made before it, as one line."""

from __future__ import annotations

import pytest

from infra.gcs_acl import errors
from infra.gcs_acl.results import Scan, Summary
from infra.gcs_acl.spec import AclSpec

SPEC = AclSpec(bucket="bkt", prefix="v1/")


def test_partial_is_none_before_a_run_started() -> None:
    assert errors.GcsAclError("bucket gone").partial() is None


def test_partial_is_the_summary_line_of_a_grant_or_revoke() -> None:
    summary = Summary(action="grant", spec=SPEC, scanned=3, changed=1, undone=2)
    err = errors.TransportError("unreachable", summary=summary)
    assert err.partial() == summary.line()
    assert "left undone 2" in (err.partial() or "") and "INCOMPLETE" in (err.partial() or "")


def test_partial_is_the_scan_line_of_a_check() -> None:
    scan = Scan(spec=SPEC, scanned=4, holding=3, missing=1, pages=1)
    err = errors.InterruptedRunError("interrupted during check", scan=scan)
    assert err.partial() == scan.line()


def test_invalid_spec_names_the_field_and_carries_no_progress() -> None:
    err = errors.InvalidSpecError("invalid role 'WRITER'", field="role")
    assert (err.field, str(err), err.partial()) == ("role", "invalid role 'WRITER'", None)


@pytest.mark.parametrize(
    "kind",
    [
        errors.InvalidSpecError,
        errors.BucketNotFoundError,
        errors.AccessDeniedError,
        errors.UniformAccessError,
        errors.CredentialsError,
        errors.TransportError,
        errors.RequestError,
        errors.InterruptedRunError,
    ],
)
def test_every_error_is_one_the_cli_and_the_provider_catch(kind: type[Exception]) -> None:
    assert issubclass(kind, errors.GcsAclError)

"""infra/gcs_acl/scan.py: scan (drift) and check (is the bucket public as asked) against a real
emulator; they change nothing."""

from __future__ import annotations

import google.cloud.storage as storage
import pytest

from infra.gcs_acl import errors
from infra.gcs_acl.grant import apply
from infra.gcs_acl.scan import check, scan
from infra.gcs_acl.settings import RunSettings
from infra.gcs_acl.spec import AclSpec, normalize_spec
from tests.gcs_acl.conftest import Objects

FAST = RunSettings(retry_deadline_s=2.0, retry_initial_s=0.05, retry_max_s=0.2)

pytestmark = pytest.mark.emulator


def spec(bucket: str, prefix: str = "", entity: str = "allUsers", role: str = "READER") -> AclSpec:
    return normalize_spec(bucket, prefix, entity, role)


def test_scan_detects_manual_revoke_and_new_upload(bucket: str, objects: Objects) -> None:
    objects.seed(bucket, ["a", "b", "c"])
    apply("grant", spec(bucket), FAST)
    assert scan(spec(bucket), FAST).missing == 0

    objects.set_acl(bucket, "b", [])  # someone made b private again
    objects.seed(bucket, ["d"])  # and a new layer was pushed (the emulator ignores defacl)
    drift = scan(spec(bucket), FAST)
    assert (drift.scanned, drift.holding, drift.missing, drift.sample) == (4, 2, 2, ["b", "d"])

    fixed = apply("grant", spec(bucket), FAST)
    assert (fixed.changed, fixed.already) == (2, 2)
    assert scan(spec(bucket), FAST).missing == 0


def test_uniform_bucket_level_access_is_refused_by_scan(
    bucket: str, objects: Objects, gcs: storage.Client
) -> None:
    objects.seed(bucket, ["a"])
    b = gcs.get_bucket(bucket)
    b.iam_configuration.uniform_bucket_level_access_enabled = True
    b.patch()
    with pytest.raises(errors.UniformAccessError, match="uniform bucket-level access on"):
        scan(spec(bucket), FAST)


def test_check_names_each_place_and_passes_only_when_all_are_public(
    bucket: str, objects: Objects, gcs: storage.Client
) -> None:
    objects.seed(bucket, ["a", "b"])
    apply("grant", spec(bucket), FAST)
    objects.set_acl(bucket, "b", [])
    report = check(spec(bucket), FAST)
    assert [(f.what, f.ok) for f in report.findings] == [
        ("bucket ACL", False),
        ("default object ACL", False),
        ("objects", False),
    ]
    assert report.findings[2].detail.endswith("1 lack it: b")
    assert report.scan is not None and (report.scan.holding, report.scan.missing) == (1, 1)

    b = gcs.get_bucket(bucket)
    b.acl.all().grant_read()
    b.acl.save()
    b.default_object_acl.all().grant_read()
    b.default_object_acl.save()
    apply("grant", spec(bucket), FAST)
    assert check(spec(bucket), FAST).ok


def test_check_under_uniform_access_reads_the_iam_binding(bucket: str, gcs: storage.Client) -> None:
    b = gcs.get_bucket(bucket)
    b.iam_configuration.uniform_bucket_level_access_enabled = True
    b.patch()
    report = check(spec(bucket), FAST)
    assert report.uniform_access and not report.ok and report.scan is None
    (finding,) = report.findings
    assert finding.what == "IAM binding"
    assert finding.detail.startswith("allUsers lacks roles/storage.objectViewer")


@pytest.mark.parametrize("prefix", ["layers*", "nothing/"])
def test_a_prefix_that_matches_nothing_fails_the_check(
    bucket: str, objects: Objects, prefix: str
) -> None:
    objects.seed(bucket, ["layers/a", "layers/b"])
    report = check(spec(bucket, prefix=prefix), FAST)
    assert not report.ok and "not globs" in report.findings[-1].detail


def test_an_empty_bucket_passes_the_object_check(bucket: str) -> None:
    finding = check(spec(bucket), FAST).findings[-1]
    assert finding.ok and finding.detail == f"the bucket gs://{bucket} has no objects"

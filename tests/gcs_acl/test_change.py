"""infra/gcs_acl/change.py: one object's change against a real emulator (a fault proxy answers
412 where a concurrent change would), and how each outcome is counted."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from infra.gcs_acl import errors
from infra.gcs_acl.change import Outcome, change, tally
from infra.gcs_acl.client import Gcs, Listed, StoppedError
from infra.gcs_acl.results import FAILURES_KEPT, Summary
from infra.gcs_acl.settings import RunSettings
from infra.gcs_acl.spec import AclSpec, normalize_spec
from tests.gcs_acl.conftest import FaultProxyFactory, Objects

PUBLIC = {"entity": "allUsers", "role": "READER"}
FAST = RunSettings(retry_deadline_s=2.0, retry_initial_s=0.05, retry_max_s=0.2)


@pytest.fixture
def run_gcs() -> Iterator[Gcs]:
    """What a run talks to GCS with (STORAGE_EMULATOR_HOST as the test leaves it)."""
    made = Gcs(FAST)
    yield made
    made.close()


def listed(objects: Objects, bucket: str, name: str, *, with_acl: bool = True) -> Listed:
    """The object as a listing gives it now."""
    blob = objects.client.bucket(bucket).get_blob(name)
    acl = objects.acl(bucket, name) if with_acl else None
    return Listed(name, int(blob.metageneration), acl)


# ----------------------------------------------------------------------------- counting


@pytest.mark.parametrize(
    ("outcome", "counter"),
    [
        (Outcome.CHANGED, "changed"),
        (Outcome.ALREADY, "already"),
        (Outcome.VANISHED, "vanished"),
        (Outcome.UNDONE, "undone"),
        (Outcome.KEPT_CHANGING, "failed"),
    ],
)
def test_each_outcome_adds_to_its_own_count(outcome: Outcome, counter: str) -> None:
    summary = Summary(action="grant", spec=AclSpec(bucket="bkt"))
    tally(summary, "layers/a", outcome)
    counts = ("changed", "already", "vanished", "undone", "failed")
    assert {name: getattr(summary, name) for name in counts} == {
        name: int(name == counter) for name in counts
    }
    assert summary.failures == (
        [("layers/a", "object kept changing under us (412 four times)")]
        if outcome is Outcome.KEPT_CHANGING
        else []
    )


def test_only_the_first_failures_are_named() -> None:
    summary = Summary(action="revoke", spec=AclSpec(bucket="bkt"))
    for i in range(FAILURES_KEPT + 5):
        tally(summary, f"o{i}", Outcome.KEPT_CHANGING)
    assert summary.failed == FAILURES_KEPT + 5 and len(summary.failures) == FAILURES_KEPT


# ----------------------------------------------------------------------------- one object


@pytest.mark.emulator
def test_a_grant_writes_the_entry_and_keeps_the_others(
    bucket: str, objects: Objects, run_gcs: Gcs
) -> None:
    objects.seed(bucket, ["a"])
    owner = {"entity": "user-owner@example.com", "role": "OWNER"}
    objects.set_acl(bucket, "a", [owner])
    item = listed(objects, bucket, "a")
    assert change(run_gcs, "grant", normalize_spec(bucket), item) is Outcome.CHANGED
    assert objects.acl(bucket, "a") == [owner, PUBLIC]


@pytest.mark.emulator
def test_an_acl_the_listing_omitted_is_read_first(
    bucket: str, objects: Objects, run_gcs: Gcs
) -> None:
    objects.seed(bucket, ["a", "b"])
    objects.set_acl(bucket, "a", [PUBLIC])
    spec = normalize_spec(bucket)
    assert change(run_gcs, "grant", spec, listed(objects, bucket, "a", with_acl=False)) is (
        Outcome.ALREADY
    )
    assert change(run_gcs, "revoke", spec, listed(objects, bucket, "b", with_acl=False)) is (
        Outcome.ALREADY
    )
    assert change(run_gcs, "revoke", spec, listed(objects, bucket, "a", with_acl=False)) is (
        Outcome.CHANGED
    )
    assert objects.acl(bucket, "a") == []


@pytest.mark.emulator
def test_an_object_deleted_after_the_listing_vanished(
    bucket: str, objects: Objects, run_gcs: Gcs
) -> None:
    objects.seed(bucket, ["a"])
    item = listed(objects, bucket, "a")
    objects.client.bucket(bucket).blob("a").delete()
    assert change(run_gcs, "grant", normalize_spec(bucket), item) is Outcome.VANISHED


@pytest.mark.emulator
def test_a_concurrent_change_is_read_again_not_overwritten(
    bucket: str, objects: Objects, fault_proxy: FaultProxyFactory
) -> None:
    objects.seed(bucket, ["a"])
    item = listed(objects, bucket, "a")
    patches: list[str] = []

    def first_patch_412(method: str, path: str, n: int) -> int | None:
        if method == "PATCH":
            patches.append(path)
            return 412 if len(patches) == 1 else None
        return None

    proxy = fault_proxy(first_patch_412)
    gcs = Gcs(FAST)
    try:
        assert change(gcs, "grant", normalize_spec(bucket), item) is Outcome.CHANGED
    finally:
        gcs.close()
    assert len(patches) == 2 and "ifMetagenerationMatch=" in patches[0]
    assert [method for method, _, _ in proxy.injected] == ["PATCH"]
    assert objects.acl(bucket, "a") == [PUBLIC]


@pytest.mark.emulator
def test_an_object_that_keeps_changing_fails_on_its_own(
    bucket: str, objects: Objects, fault_proxy: FaultProxyFactory
) -> None:
    objects.seed(bucket, ["a"])
    item = listed(objects, bucket, "a")
    fault_proxy(lambda method, path, n: 412 if method == "PATCH" else None)
    gcs = Gcs(FAST)
    try:
        assert change(gcs, "grant", normalize_spec(bucket), item) is Outcome.KEPT_CHANGING
    finally:
        gcs.close()
    assert objects.acl(bucket, "a") == []


@pytest.mark.emulator
def test_a_refusal_is_one_line_naming_the_object(
    bucket: str, objects: Objects, fault_proxy: FaultProxyFactory
) -> None:
    objects.seed(bucket, ["layers/a"])
    item = listed(objects, bucket, "layers/a")
    fault_proxy(lambda method, path, n: 403 if method == "PATCH" else None)
    gcs = Gcs(FAST)
    try:
        with pytest.raises(errors.AccessDeniedError) as err:
            change(gcs, "grant", normalize_spec(bucket), item)
    finally:
        gcs.close()
    assert "while patching the ACL of 'layers/a'" in str(err.value)


def test_nothing_is_sent_once_the_run_stops(run_gcs: Gcs) -> None:
    run_gcs.stop.set()
    with pytest.raises(StoppedError):
        change(run_gcs, "grant", normalize_spec("bkt"), Listed("a", 1, []))

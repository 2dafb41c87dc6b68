"""infra/gcs_acl/grant.py: grant and revoke against a real emulator, what a run counts when it
stops early (a fatal error, the backend gone, Ctrl-C), and that a re-run finishes the job.

The emulator stores ACLs but does not enforce them, so the assertions read the stored ACLs back.
"""

from __future__ import annotations

import google.cloud.storage as storage
import pytest

from infra.gcs_acl import errors
from infra.gcs_acl.grant import apply
from infra.gcs_acl.scan import scan
from infra.gcs_acl.settings import RunSettings
from infra.gcs_acl.spec import AclSpec, normalize_spec
from tests.gcs_acl.conftest import FaultProxyFactory, Objects, ObjectsAt, OwnEmulator

FAST = RunSettings(retry_deadline_s=2.0, retry_initial_s=0.05, retry_max_s=0.2)
PUBLIC = {"entity": "allUsers", "role": "READER"}

pytestmark = pytest.mark.emulator


def spec(bucket: str, prefix: str = "", entity: str = "allUsers", role: str = "READER") -> AclSpec:
    return normalize_spec(bucket, prefix, entity, role)


@pytest.mark.parametrize("count", [0, 1])
def test_grant_small_buckets(bucket: str, objects: Objects, count: int) -> None:
    objects.seed(bucket, [f"obj-{i}" for i in range(count)])
    summary = apply("grant", spec(bucket), FAST)
    assert (summary.scanned, summary.changed, summary.already, summary.failed) == (
        count,
        count,
        0,
        0,
    )
    assert summary.complete and summary.pages == 1
    assert objects.public(bucket) == {f"obj-{i}" for i in range(count)}


def test_grant_2500_objects_over_three_pages_then_idempotent(bucket: str, objects: Objects) -> None:
    names = [f"layers/sha256-{i:05d}" for i in range(2500)]
    objects.seed(bucket, names)
    lines: list[str] = []
    first = apply(
        "grant",
        spec(bucket),
        RunSettings(progress_interval_s=0, retry_deadline_s=5),
        progress=lines.append,
    )
    assert (first.scanned, first.changed, first.already, first.failed) == (2500, 2500, 0, 0)
    assert first.pages == 3  # 1,000 + 1,000 + 500: GCS's page size
    assert len(lines) == 3 and "scanned 1000 (1 pages)" in lines[0]
    assert objects.public(bucket) == set(names)
    assert "already public 0" in first.line()

    second = apply("grant", spec(bucket), FAST)
    assert (second.scanned, second.changed, second.already) == (2500, 0, 2500)
    assert second.line().endswith("nothing to change, already up to date")


def test_grant_keeps_existing_entries(bucket: str, objects: Objects) -> None:
    objects.seed(bucket, ["a"])
    owner = {"entity": "user-owner@example.com", "role": "OWNER"}
    objects.set_acl(bucket, "a", [owner])
    apply("grant", spec(bucket), FAST)
    assert objects.acl(bucket, "a") == [owner, PUBLIC]


def test_prefix_limits_the_grant(bucket: str, objects: Objects) -> None:
    objects.seed(bucket, ["v1/a", "v1/b", "v2/a", "top"])
    summary = apply("grant", spec(bucket, prefix="v1/"), FAST)
    assert (summary.scanned, summary.changed) == (2, 2)
    assert objects.public(bucket) == {"v1/a", "v1/b"}
    assert "gs://" + bucket + "/v1/*" in summary.line()


def test_revoke_undoes_grant_and_is_idempotent(bucket: str, objects: Objects) -> None:
    objects.seed(bucket, ["a", "b", "c"])
    owner = {"entity": "user-owner@example.com", "role": "OWNER"}
    objects.set_acl(bucket, "c", [owner])
    apply("grant", spec(bucket), FAST)
    revoked = apply("revoke", spec(bucket), FAST)
    assert (revoked.scanned, revoked.changed, revoked.already) == (3, 3, 0)
    assert objects.public(bucket) == set()
    assert objects.acl(bucket, "c") == [owner]
    again = apply("revoke", spec(bucket), FAST)
    assert (again.changed, again.already) == (0, 3)
    assert "already private 3" in again.line()


def test_skip_leaves_the_objects_it_names_alone(bucket: str, objects: Objects) -> None:
    objects.seed(bucket, ["v1/a", "v2/a", "v2/b"])
    summary = apply("grant", spec(bucket), FAST, skip=lambda name: name.startswith("v2/"))
    assert (summary.scanned, summary.changed) == (1, 1)
    assert objects.public(bucket) == {"v1/a"}


def test_uniform_bucket_level_access_is_refused_and_nothing_changes(
    bucket: str, objects: Objects, gcs: storage.Client
) -> None:
    objects.seed(bucket, ["a"])
    # The emulator stores iamConfiguration like GCS (it does not enforce it): switch UBLA on.
    b = gcs.get_bucket(bucket)
    b.iam_configuration.uniform_bucket_level_access_enabled = True
    b.patch()
    for action in ("grant", "revoke"):
        with pytest.raises(errors.UniformAccessError) as err:
            apply(action, spec(bucket), FAST)
        text = str(err.value)
        assert "uniform bucket-level access" in text and "roles/storage.objectViewer" in text
        assert "allUsers" in text and "nothing changed" in text and "\n" not in text
    assert objects.acl(bucket, "a") == []


def test_access_denied_is_one_clear_error_and_changes_nothing(
    bucket: str, objects: Objects, fault_proxy: FaultProxyFactory
) -> None:
    objects.seed(bucket, ["a", "b"])
    fault_proxy(lambda method, path, n: 403 if method == "PATCH" else None)
    with pytest.raises(errors.AccessDeniedError) as err:
        apply("grant", spec(bucket), FAST)
    text = str(err.value)
    assert text.startswith("access denied (403)") and "\n" not in text
    assert "storage.objects.setIamPolicy" in text
    assert err.value.summary is not None and err.value.summary.changed == 0
    assert objects.public(bucket) == set()


def test_emulator_killed_mid_run_reports_progress_and_rerun_completes(
    own_emulator: OwnEmulator, objects_at: ObjectsAt, monkeypatch: pytest.MonkeyPatch
) -> None:
    emu = own_emulator()
    monkeypatch.setenv("STORAGE_EMULATOR_HOST", emu.url)
    view = objects_at(emu.url)
    view.client.create_bucket("killed-mid-run")
    names = [f"o{i:03d}" for i in range(300)]
    view.seed("killed-mid-run", names)

    def kill_after_first_page(_line: str) -> None:
        emu.kill()

    settings = RunSettings(
        page_size=100,
        workers=4,
        progress_interval_s=0,
        retry_deadline_s=1.0,
        retry_initial_s=0.05,
        retry_max_s=0.2,
    )
    with pytest.raises(errors.TransportError) as err:
        apply("grant", spec("killed-mid-run"), settings, progress=kill_after_first_page)
    text = str(err.value)
    assert "unreachable or failing" in text and emu.url in text and "\n" not in text
    partial = err.value.summary
    assert partial is not None and not partial.complete
    assert 0 < partial.changed < 300
    assert "INCOMPLETE, re-run to finish" in partial.line()
    # Every object listed is accounted for: done, already so, or left undone (never "failed 0"
    # and silence); the two pages not yet listed are said to be missing from the count.
    assert partial.changed + partial.already + partial.undone == partial.scanned
    assert f"left undone {partial.undone}" in partial.line()
    assert "the listing stopped early" in partial.line()

    # Same data, new process: the re-run finishes the job and redoes nothing.
    emu2 = own_emulator()
    monkeypatch.setenv("STORAGE_EMULATOR_HOST", emu2.url)
    rerun = apply("grant", spec("killed-mid-run"), FAST)
    assert rerun.complete and rerun.scanned == 300 and rerun.failed == 0
    assert rerun.changed + rerun.already == 300
    assert rerun.already >= partial.changed  # what was done before the kill stays done
    assert objects_at(emu2.url).public("killed-mid-run") == set(names)


def test_ctrl_c_lets_requests_in_flight_finish_and_reports_progress(
    bucket: str, objects: Objects
) -> None:
    objects.seed(bucket, [f"o{i:03d}" for i in range(250)])

    lines: list[str] = []

    def interrupt(line: str) -> None:
        lines.append(line)
        if len(lines) == 1:
            raise KeyboardInterrupt  # what Ctrl-C raises in the main thread

    settings = RunSettings(page_size=100, progress_interval_s=0)
    with pytest.raises(errors.InterruptedRunError) as err:
        apply("grant", spec(bucket), settings, progress=interrupt)
    partial = err.value.summary
    assert partial is not None and 0 < partial.changed < 250 and partial.pages == 1
    assert len(objects.public(bucket)) == partial.changed  # nothing done but not counted
    # What needed a change and was not made is counted, not hidden behind "failed 0".
    assert partial.changed + partial.already + partial.undone == partial.scanned == 100
    assert partial.undone > 0 and f"left undone {partial.undone}" in partial.line()
    assert lines[1].startswith("interrupted: letting ")
    rerun = apply("grant", spec(bucket), FAST)
    assert (rerun.changed, rerun.already) == (250 - partial.changed, partial.changed)


def test_a_fatal_error_mid_run_counts_what_was_left_undone(
    bucket: str, objects: Objects, fault_proxy: FaultProxyFactory
) -> None:
    objects.seed(bucket, [f"o{i:03d}" for i in range(200)])
    patches = 0

    def deny_after_50(method: str, path: str, n: int) -> int | None:
        nonlocal patches
        if method == "PATCH":
            patches += 1
            return 403 if patches > 50 else None
        return None

    fault_proxy(deny_after_50)
    with pytest.raises(errors.AccessDeniedError) as err:
        apply("grant", spec(bucket), FAST)
    partial = err.value.summary
    assert partial is not None and not partial.complete
    assert partial.changed + partial.already + partial.undone == partial.scanned
    assert partial.changed == 50 and partial.undone > 0 and partial.failed == 0
    assert len(objects.public(bucket)) == partial.changed
    assert f"left undone {partial.undone}" in partial.line()


def test_revoke_reader_after_an_owner_grant_agrees_with_check(
    bucket: str, objects: Objects
) -> None:
    objects.seed(bucket, ["a", "b"])
    owner = spec(bucket, entity="user-ops@example.com", role="OWNER")
    reader = spec(bucket, entity="user-ops@example.com", role="READER")
    apply("grant", owner, FAST)
    assert scan(reader, FAST).holding == 2  # an OWNER can read

    # revoke OWNER removes the OWNER entries ...
    assert apply("revoke", owner, FAST).changed == 2
    assert scan(reader, FAST).missing == 2
    # ... and leaves a READER entry alone; revoke READER removes whatever role it holds.
    apply("grant", reader, FAST)
    again = apply("revoke", owner, FAST)
    assert (again.changed, again.already) == (0, 2)
    assert "already revoked 2" in again.line()
    apply("grant", owner, FAST)
    revoked = apply("revoke", reader, FAST)
    assert revoked.changed == 2
    assert scan(reader, FAST).holding == 0
    assert objects.acl(bucket, "a") == []


@pytest.mark.parametrize("prefix", ["layers*", "nothing/"])
def test_a_prefix_that_matches_nothing_says_so_and_that_it_is_not_a_glob(
    bucket: str, objects: Objects, prefix: str
) -> None:
    objects.seed(bucket, ["layers/a", "layers/b"])
    summary = apply("grant", spec(bucket, prefix=prefix), FAST)
    assert summary.complete and summary.scanned == 0
    line = summary.line()
    assert f"nothing matched: no object name in gs://{bucket} starts with {prefix!r}" in line
    assert "prefixes are literal, not globs" in line and "already up to date" not in line


def test_an_empty_bucket_is_fine_and_says_so(bucket: str) -> None:
    summary = apply("grant", spec(bucket), FAST)
    assert summary.complete and summary.line().endswith(f"the bucket gs://{bucket} has no objects")

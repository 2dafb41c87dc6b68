"""infra/gcs_acl/engine.py: settings checks and every run against a real emulator.

The emulator stores ACLs but does not enforce them, so the assertions read the stored ACLs back.
"""

from __future__ import annotations

import math

import pytest

from infra.gcs_acl import engine

FAST = engine.RunSettings(retry_deadline_s=2.0, retry_initial_s=0.05, retry_max_s=0.2)
PUBLIC = {"entity": "allUsers", "role": "READER"}


def spec(bucket: str, prefix: str = "", entity: str = "allUsers", role: str = "READER"):
    return engine.normalize_spec(bucket, prefix, entity, role)


@pytest.mark.parametrize(
    ("settings", "words"),
    [
        (engine.RunSettings(workers=0), "workers must be a whole number from 1 to 256"),
        (engine.RunSettings(page_size=1001), "page_size must be a whole number from 1 to 1000"),
        (engine.RunSettings(retry_deadline_s=0), "retry_deadline_s must be a finite number"),
        (engine.RunSettings(retry_deadline_s=math.nan), "retry_deadline_s must be a finite"),
        (engine.RunSettings(progress_interval_s=math.inf), "progress_interval_s must be"),
    ],
)
def test_bad_settings_rejected_before_any_request(settings: engine.RunSettings, words: str):
    with pytest.raises(engine.InvalidSpecError, match=words):
        engine.apply("grant", spec("never-contacted"), settings)


# ----------------------------------------------------------------------------- emulator


@pytest.mark.emulator
@pytest.mark.parametrize("count", [0, 1])
def test_grant_small_buckets(bucket, objects, count):
    objects.seed(bucket, [f"obj-{i}" for i in range(count)])
    summary = engine.apply("grant", spec(bucket), FAST)
    assert (summary.scanned, summary.changed, summary.already, summary.failed) == (
        count,
        count,
        0,
        0,
    )
    assert summary.complete and summary.pages == 1
    assert objects.public(bucket) == {f"obj-{i}" for i in range(count)}


@pytest.mark.emulator
def test_grant_2500_objects_over_three_pages_then_idempotent(bucket, objects):
    names = [f"layers/sha256-{i:05d}" for i in range(2500)]
    objects.seed(bucket, names)
    lines: list[str] = []
    first = engine.apply(
        "grant",
        spec(bucket),
        engine.RunSettings(progress_interval_s=0, retry_deadline_s=5),
        progress=lines.append,
    )
    assert (first.scanned, first.changed, first.already, first.failed) == (2500, 2500, 0, 0)
    assert first.pages == 3  # 1,000 + 1,000 + 500: GCS's page size
    assert len(lines) == 3 and "scanned 1000 (1 pages)" in lines[0]
    assert objects.public(bucket) == set(names)
    assert "already public 0" in first.line()

    second = engine.apply("grant", spec(bucket), FAST)
    assert (second.scanned, second.changed, second.already) == (2500, 0, 2500)
    assert second.line().endswith("nothing to change, already up to date")


@pytest.mark.emulator
def test_grant_keeps_existing_entries(bucket, objects):
    objects.seed(bucket, ["a"])
    owner = {"entity": "user-owner@example.com", "role": "OWNER"}
    objects.set_acl(bucket, "a", [owner])
    engine.apply("grant", spec(bucket), FAST)
    assert objects.acl(bucket, "a") == [owner, PUBLIC]


@pytest.mark.emulator
def test_prefix_limits_the_grant(bucket, objects):
    objects.seed(bucket, ["v1/a", "v1/b", "v2/a", "top"])
    summary = engine.apply("grant", spec(bucket, prefix="v1/"), FAST)
    assert (summary.scanned, summary.changed) == (2, 2)
    assert objects.public(bucket) == {"v1/a", "v1/b"}
    assert "gs://" + bucket + "/v1/*" in summary.line()


@pytest.mark.emulator
def test_revoke_undoes_grant_and_is_idempotent(bucket, objects):
    objects.seed(bucket, ["a", "b", "c"])
    owner = {"entity": "user-owner@example.com", "role": "OWNER"}
    objects.set_acl(bucket, "c", [owner])
    engine.apply("grant", spec(bucket), FAST)
    revoked = engine.apply("revoke", spec(bucket), FAST)
    assert (revoked.scanned, revoked.changed, revoked.already) == (3, 3, 0)
    assert objects.public(bucket) == set()
    assert objects.acl(bucket, "c") == [owner]
    again = engine.apply("revoke", spec(bucket), FAST)
    assert (again.changed, again.already) == (0, 3)
    assert "already private 3" in again.line()


@pytest.mark.emulator
def test_scan_detects_manual_revoke_and_new_upload(bucket, objects):
    objects.seed(bucket, ["a", "b", "c"])
    engine.apply("grant", spec(bucket), FAST)
    assert engine.scan(spec(bucket), FAST).missing == 0

    objects.set_acl(bucket, "b", [])  # someone made b private again
    objects.seed(bucket, ["d"])  # and a new layer was pushed (the emulator ignores defacl)
    drift = engine.scan(spec(bucket), FAST)
    assert (drift.scanned, drift.holding, drift.missing, drift.sample) == (4, 2, 2, ["b", "d"])

    fixed = engine.apply("grant", spec(bucket), FAST)
    assert (fixed.changed, fixed.already) == (2, 2)
    assert engine.scan(spec(bucket), FAST).missing == 0


@pytest.mark.emulator
def test_uniform_bucket_level_access_is_refused_and_nothing_changes(bucket, objects, gcs):
    objects.seed(bucket, ["a"])
    # The emulator stores iamConfiguration like GCS (it does not enforce it): switch UBLA on.
    b = gcs.get_bucket(bucket)
    b.iam_configuration.uniform_bucket_level_access_enabled = True
    b.patch()
    for action in ("grant", "revoke"):
        with pytest.raises(engine.UniformAccessError) as err:
            engine.apply(action, spec(bucket), FAST)
        text = str(err.value)
        assert "uniform bucket-level access" in text and "roles/storage.objectViewer" in text
        assert "allUsers" in text and "nothing changed" in text and "\n" not in text
    with pytest.raises(engine.UniformAccessError):
        engine.scan(spec(bucket), FAST)
    assert objects.acl(bucket, "a") == []


@pytest.mark.emulator
def test_missing_bucket_is_one_clear_error():
    with pytest.raises(engine.BucketNotFoundError) as err:
        engine.apply("grant", spec("no-such-bucket-here"), FAST)
    assert str(err.value).startswith("bucket gs://no-such-bucket-here does not exist")
    assert "nothing changed" in str(err.value)


@pytest.mark.emulator
def test_retries_429_and_5xx_with_backoff(bucket, objects, fault_proxy):
    objects.seed(bucket, [f"o{i}" for i in range(20)])
    seen = {"list": 0, "patch": 0}

    def rule(method: str, path: str, n: int) -> int | None:
        if method == "GET" and path.split("?", maxsplit=1)[0].endswith("/o"):
            seen["list"] += 1
            return 503 if seen["list"] <= 2 else None  # the first list page fails twice
        if method == "PATCH":
            seen["patch"] += 1
            if seen["patch"] % 3 == 1:  # every third patch: 429, then each 5xx in turn
                return [429, 500, 502, 503, 504][(seen["patch"] // 3) % 5]
        return None

    proxy = fault_proxy(rule)
    summary = engine.apply("grant", spec(bucket), FAST)
    assert (summary.changed, summary.failed) == (20, 0)
    assert len(proxy.injected) >= 9  # 2 list failures + every third PATCH
    assert {status for _, _, status in proxy.injected} >= {429, 503}
    assert objects.public(bucket) == {f"o{i}" for i in range(20)}


@pytest.mark.emulator
def test_concurrency_is_bounded(bucket, objects, fault_proxy):
    objects.seed(bucket, [f"o{i:03d}" for i in range(120)])
    proxy = fault_proxy(lambda *_: None)
    summary = engine.apply("grant", spec(bucket), engine.RunSettings(workers=4))
    assert summary.changed == 120
    assert 2 <= proxy.max_active <= 4 + 1  # 4 patch workers, plus the lister between pages


@pytest.mark.emulator
def test_access_denied_is_one_clear_error_and_changes_nothing(bucket, objects, fault_proxy):
    objects.seed(bucket, ["a", "b"])
    fault_proxy(lambda method, path, n: 403 if method == "PATCH" else None)
    with pytest.raises(engine.AccessDeniedError) as err:
        engine.apply("grant", spec(bucket), FAST)
    text = str(err.value)
    assert text.startswith("access denied (403)") and "\n" not in text
    assert "storage.objects.setIamPolicy" in text
    assert err.value.summary is not None and err.value.summary.changed == 0
    assert objects.public(bucket) == set()


@pytest.mark.emulator
def test_access_denied_on_the_bucket(bucket, fault_proxy):
    fault_proxy(lambda *_: 403)
    for run in (
        lambda: engine.check(spec(bucket), FAST),
        lambda: engine.apply("grant", spec(bucket), FAST),
    ):
        with pytest.raises(engine.AccessDeniedError) as err:
            run()
        assert str(err.value).startswith("access denied (403) while reading bucket")
        assert str(err.value).endswith("; nothing changed")


@pytest.mark.emulator
def test_emulator_killed_mid_run_reports_progress_and_rerun_completes(
    own_emulator, objects_at, monkeypatch
):
    emu = own_emulator()
    monkeypatch.setenv("STORAGE_EMULATOR_HOST", emu.url)
    view = objects_at(emu.url)
    view.client.create_bucket("killed-mid-run")
    names = [f"o{i:03d}" for i in range(300)]
    view.seed("killed-mid-run", names)

    def kill_after_first_page(_line: str) -> None:
        emu.kill()

    settings = engine.RunSettings(
        page_size=100,
        workers=4,
        progress_interval_s=0,
        retry_deadline_s=1.0,
        retry_initial_s=0.05,
        retry_max_s=0.2,
    )
    with pytest.raises(engine.TransportError) as err:
        engine.apply("grant", spec("killed-mid-run"), settings, progress=kill_after_first_page)
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
    rerun = engine.apply("grant", spec("killed-mid-run"), FAST)
    assert rerun.complete and rerun.scanned == 300 and rerun.failed == 0
    assert rerun.changed + rerun.already == 300
    assert rerun.already >= partial.changed  # what was done before the kill stays done
    assert objects_at(emu2.url).public("killed-mid-run") == set(names)


@pytest.mark.emulator
def test_ctrl_c_lets_requests_in_flight_finish_and_reports_progress(bucket, objects):
    objects.seed(bucket, [f"o{i:03d}" for i in range(250)])

    lines: list[str] = []

    def interrupt(line: str) -> None:
        lines.append(line)
        if len(lines) == 1:
            raise KeyboardInterrupt  # what Ctrl-C raises in the main thread

    settings = engine.RunSettings(page_size=100, progress_interval_s=0)
    with pytest.raises(engine.InterruptedRunError) as err:
        engine.apply("grant", spec(bucket), settings, progress=interrupt)
    partial = err.value.summary
    assert partial is not None and 0 < partial.changed < 250 and partial.pages == 1
    assert len(objects.public(bucket)) == partial.changed  # nothing done but not counted
    # What needed a change and was not made is counted, not hidden behind "failed 0".
    assert partial.changed + partial.already + partial.undone == partial.scanned == 100
    assert partial.undone > 0 and f"left undone {partial.undone}" in partial.line()
    assert lines[1].startswith("interrupted: letting ")
    rerun = engine.apply("grant", spec(bucket), FAST)
    assert (rerun.changed, rerun.already) == (250 - partial.changed, partial.changed)


@pytest.mark.emulator
def test_emulator_host_without_scheme(bucket, objects, emulator, monkeypatch):
    monkeypatch.setenv("STORAGE_EMULATOR_HOST", f"127.0.0.1:{emulator.port}")
    objects.seed(bucket, ["a"])
    assert engine.apply("grant", spec(bucket), FAST).changed == 1


@pytest.mark.emulator
def test_real_gcs_without_credentials_is_one_clear_error(monkeypatch):
    monkeypatch.delenv("STORAGE_EMULATOR_HOST")
    # GOOGLE_APPLICATION_CREDENTIALS points at a missing file (conftest): ADC fails at once.
    with pytest.raises(engine.CredentialsError) as err:
        engine.apply("grant", spec("some-bucket"), FAST)
    assert str(err.value).startswith("no application default credentials")


# ----------------------------------------------------------------------------- adaptive limit


def test_adaptive_limit_slow_start_then_halves_once_per_round_and_climbs_back_slowly():
    limit = engine.AdaptiveLimit(16)
    assert limit.limit == 1  # starts with one request in flight
    for _ in range(15):  # slow start: one more per answered request, up to the maximum
        limit.release(limit.acquire(), pushed_back=False)
    assert limit.limit == 16

    # 16 requests in flight at 16; three of them are pushed back: halved once, not three times.
    tokens = [limit.acquire() for _ in range(16)]
    for token in tokens[:3]:
        limit.release(token, pushed_back=True)
    assert limit.limit == 8 and limit.pushbacks == 3 and limit.lowest == 8
    for token in tokens[3:]:
        limit.release(token, pushed_back=False)
    # After a pushback: about one more per round (8 answers at 8 give +1), not per answer.
    assert 8 < limit.limit < 10

    # A request sent after the decrease that is pushed back halves again, down to 1, never 0.
    for _ in range(10):
        limit.release(limit.acquire(), pushed_back=True)
    assert limit.limit == 1 and limit.lowest == 1
    token = limit.acquire()
    assert limit.in_flight == 1
    limit.release(token, pushed_back=False)
    assert limit.in_flight == 0


@pytest.mark.emulator
def test_a_backend_that_refuses_above_its_capacity_makes_the_run_slower_not_incomplete(
    bucket, objects, fault_proxy
):
    """503 for every request beyond 3 in flight (10 ms per request otherwise): the adaptive
    limit settles around the capacity, so few requests are refused (measured: about 50 for
    300 objects; a fixed pool of 16 workers had 104-151 refused), and every object is done."""
    names = [f"o{i:03d}" for i in range(300)]
    objects.seed(bucket, names)
    capacity = 3

    proxy = None

    def over_capacity(method: str, path: str, n: int) -> int | None:
        assert proxy is not None
        return 503 if proxy.active > capacity else None

    proxy = fault_proxy(over_capacity, latency_s=0.01)
    settings = engine.RunSettings(retry_deadline_s=3, retry_initial_s=0.05, retry_max_s=0.5)
    summary = engine.apply("grant", spec(bucket), settings)
    assert summary.complete and (summary.changed, summary.failed) == (300, 0)
    assert len(proxy.injected) < len(names) / 4, f"{len(proxy.injected)} requests refused"
    assert summary.undone == 0
    assert summary.pushbacks > 0 and 1 <= summary.lowest_in_flight <= capacity
    assert "backend pushed back" in summary.line()
    assert objects.public(bucket) == set(names)


# ----------------------------------------------------------------------------- meaning of role


@pytest.mark.emulator
def test_revoke_reader_after_an_owner_grant_agrees_with_check(bucket, objects):
    objects.seed(bucket, ["a", "b"])
    owner = spec(bucket, entity="user-ops@example.com", role="OWNER")
    reader = spec(bucket, entity="user-ops@example.com", role="READER")
    engine.apply("grant", owner, FAST)
    assert engine.scan(reader, FAST).holding == 2  # an OWNER can read

    # revoke OWNER removes the OWNER entries ...
    assert engine.apply("revoke", owner, FAST).changed == 2
    assert engine.scan(reader, FAST).missing == 2
    # ... and leaves a READER entry alone; revoke READER removes whatever role it holds.
    engine.apply("grant", reader, FAST)
    again = engine.apply("revoke", owner, FAST)
    assert (again.changed, again.already) == (0, 2)
    assert "already revoked 2" in again.line()
    engine.apply("grant", owner, FAST)
    revoked = engine.apply("revoke", reader, FAST)
    assert revoked.changed == 2
    assert engine.scan(reader, FAST).holding == 0
    assert objects.acl(bucket, "a") == []


# ----------------------------------------------------------------------------- nothing matched


@pytest.mark.emulator
@pytest.mark.parametrize("prefix", ["layers*", "nothing/"])
def test_a_prefix_that_matches_nothing_says_so_and_that_it_is_not_a_glob(bucket, objects, prefix):
    objects.seed(bucket, ["layers/a", "layers/b"])
    summary = engine.apply("grant", spec(bucket, prefix=prefix), FAST)
    assert summary.complete and summary.scanned == 0
    line = summary.line()
    assert f"nothing matched: no object name in gs://{bucket} starts with {prefix!r}" in line
    assert "prefixes are literal, not globs" in line and "already up to date" not in line
    report = engine.check(spec(bucket, prefix=prefix), FAST)
    assert not report.ok and "not globs" in report.findings[-1].detail


@pytest.mark.emulator
def test_an_empty_bucket_is_fine_and_says_so(bucket):
    summary = engine.apply("grant", spec(bucket), FAST)
    assert summary.complete and summary.line().endswith(f"the bucket gs://{bucket} has no objects")
    assert engine.check(spec(bucket), FAST).findings[-1].ok


# ----------------------------------------------------------------------------- accounting


@pytest.mark.emulator
def test_a_fatal_error_mid_run_counts_what_was_left_undone(bucket, objects, fault_proxy):
    objects.seed(bucket, [f"o{i:03d}" for i in range(200)])
    patches = 0

    def deny_after_50(method: str, path: str, n: int) -> int | None:
        nonlocal patches
        if method == "PATCH":
            patches += 1
            return 403 if patches > 50 else None
        return None

    fault_proxy(deny_after_50)
    with pytest.raises(engine.AccessDeniedError) as err:
        engine.apply("grant", spec(bucket), FAST)
    partial = err.value.summary
    assert partial is not None and not partial.complete
    assert partial.changed + partial.already + partial.undone == partial.scanned
    assert partial.changed == 50 and partial.undone > 0 and partial.failed == 0
    assert len(objects.public(bucket)) == partial.changed
    assert f"left undone {partial.undone}" in partial.line()

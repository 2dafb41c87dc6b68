"""infra/gcs_acl/limit.py: the adaptive limit on requests in flight, alone and as a run meets
it: bounded by --workers, settling at a backend's capacity, and on an overloaded backend.

The overloaded backend is gcp-storage-emulator exactly as shipped (``StockEmulator``): it serves
one request at a time, rewrites its whole metadata file on every write (about 20-40 writes/s with
1,200 objects) and listens with a backlog of 5, so with more connection attempts than that in
flight the kernel drops some, and a dropped attempt is retried by the client's kernel only after
1, 3, 7, 15 s... Run by an operator with the defaults (16 requests in flight, 60 s retry
deadline), grant and revoke must each finish with every object done: an overloaded backend makes
a run slower, never incomplete.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from infra.gcs_acl.grant import apply
from infra.gcs_acl.limit import AdaptiveLimit
from infra.gcs_acl.settings import RunSettings
from infra.gcs_acl.spec import normalize_spec
from tests.gcs_acl.conftest import FaultProxy, FaultProxyFactory, Objects, ObjectsAt, StockEmulator

ROOT = Path(__file__).resolve().parents[2]
OBJECTS = 1200


def take(limit: AdaptiveLimit) -> int:
    """A slot, waiting as long as it takes (no stop event: always a token)."""
    token = limit.acquire()
    assert token is not None
    return token


def test_adaptive_limit_slow_start_then_halves_once_per_round_and_climbs_back_slowly() -> None:
    limit = AdaptiveLimit(16)
    assert limit.limit == 1  # starts with one request in flight
    for _ in range(15):  # slow start: one more per answered request, up to the maximum
        limit.release(take(limit), pushed_back=False)
    assert limit.limit == 16

    # 16 requests in flight at 16; three of them are pushed back: halved once, not three times.
    tokens = [take(limit) for _ in range(16)]
    for token in tokens[:3]:
        limit.release(token, pushed_back=True)
    assert limit.limit == 8 and limit.pushbacks == 3 and limit.lowest == 8
    for token in tokens[3:]:
        limit.release(token, pushed_back=False)
    # After a pushback: about one more per round (8 answers at 8 give +1), not per answer.
    assert 8 < limit.limit < 10

    # A request sent after the decrease that is pushed back halves again, down to 1, never 0.
    for _ in range(10):
        limit.release(take(limit), pushed_back=True)
    assert limit.limit == 1 and limit.lowest == 1
    token = take(limit)
    assert limit.in_flight == 1
    limit.release(token, pushed_back=False)
    assert limit.in_flight == 0


def test_a_stopped_run_takes_no_slot() -> None:
    limit = AdaptiveLimit(1)
    held = limit.acquire()
    stop = threading.Event()
    stop.set()
    assert limit.acquire(stop) is None and limit.in_flight == 1
    assert held is not None
    limit.release(held, pushed_back=False)
    assert limit.in_flight == 0


@pytest.mark.emulator
def test_concurrency_is_bounded(
    bucket: str, objects: Objects, fault_proxy: FaultProxyFactory
) -> None:
    objects.seed(bucket, [f"o{i:03d}" for i in range(120)])
    proxy = fault_proxy(lambda *_: None)
    summary = apply("grant", normalize_spec(bucket), RunSettings(workers=4))
    assert summary.changed == 120
    assert 2 <= proxy.max_active <= 4 + 1  # 4 patch workers, plus the lister between pages


@pytest.mark.emulator
def test_a_backend_that_refuses_above_its_capacity_makes_the_run_slower_not_incomplete(
    bucket: str, objects: Objects, fault_proxy: FaultProxyFactory
) -> None:
    """503 for every request beyond 3 in flight (10 ms per request otherwise): the adaptive
    limit settles around the capacity, so few requests are refused, and every object is done."""
    names = [f"o{i:03d}" for i in range(300)]
    objects.seed(bucket, names)
    capacity = 3

    proxy: FaultProxy | None = None

    def over_capacity(method: str, path: str, n: int) -> int | None:
        assert proxy is not None
        return 503 if proxy.active > capacity else None

    proxy = fault_proxy(over_capacity, latency_s=0.01)
    settings = RunSettings(retry_deadline_s=3, retry_initial_s=0.05, retry_max_s=0.5)
    summary = apply("grant", normalize_spec(bucket), settings)
    assert summary.complete and (summary.changed, summary.failed) == (300, 0)
    assert len(proxy.injected) < len(names) / 4, f"{len(proxy.injected)} requests refused"
    assert summary.undone == 0
    assert summary.pushbacks > 0 and 1 <= summary.lowest_in_flight <= capacity
    assert "backend pushed back" in summary.line()
    assert objects.public(bucket) == set(names)


def _cli(*args: str, emulator: StockEmulator) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "infra.gcs_acl", *args, "--progress-interval", "10"],
        cwd=ROOT,
        env={**os.environ, "STORAGE_EMULATOR_HOST": emulator.url},
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


@pytest.mark.emulator
def test_grant_and_revoke_1200_objects_on_the_stock_single_threaded_emulator(
    tmp_path: Path, objects_at: ObjectsAt
) -> None:
    emulator = StockEmulator(tmp_path / "stock").start()
    try:
        view = objects_at(emulator.url)
        view.client.create_bucket("overloaded")
        names = [f"layers/sha256-{i:05d}" for i in range(OBJECTS)]
        view.seed("overloaded", names)

        for action in ("grant", "revoke"):
            run = _cli(action, "--bucket", "overloaded", emulator=emulator)
            summary = run.stdout.strip()
            assert run.returncode == 0, f"{action}: {run.stderr[-2000:]}"
            assert "INCOMPLETE" not in summary and "Traceback" not in run.stderr
            counts = dict(re.findall(r"(scanned|changed|failed) (\d+)", summary))
            assert counts == {"scanned": str(OBJECTS), "changed": str(OBJECTS), "failed": "0"}, (
                summary
            )
            public = view.public("overloaded")
            assert public == (set(names) if action == "grant" else set()), (
                f"{action}: {len(public)} objects public afterwards; {summary}"
            )
    finally:
        emulator.stop()

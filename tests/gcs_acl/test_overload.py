"""An overloaded backend makes a run slower, never incomplete.

The backend is gcp-storage-emulator exactly as shipped (``StockEmulator``): it serves one
request at a time, rewrites its whole metadata file on every write (about 20-40 writes/s with
1,200 objects) and listens with a backlog of 5, so with more connection attempts than that in
flight the kernel drops some, and a dropped attempt is retried by the client's kernel only after
1, 3, 7, 15 s... Run by an operator with the defaults (16 requests in flight, 60 s retry
deadline), grant and revoke must each finish with every object done.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.gcs_acl.conftest import StockEmulator

ROOT = Path(__file__).resolve().parents[2]
OBJECTS = 1200

pytestmark = pytest.mark.emulator


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


def test_grant_and_revoke_1200_objects_on_the_stock_single_threaded_emulator(tmp_path, objects_at):
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

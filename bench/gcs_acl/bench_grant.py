"""Benchmark: grant allUsers:READER on N objects on gcp-storage-emulator, concurrent vs sequential.

Usage: ``.venv/bin/python bench/gcs_acl/bench_grant.py [--objects 5000] [--workers 16]
[--latency-ms 10] [--skip-naive]``. Prints a markdown table (bench/README.md keeps the numbers).

In one run, for each emulator setting, three fresh buckets of N objects each are made public by:

- ``naive loop``: what a hand-written loop (and ``gsutil acl ch -r``) does, one object after the
  other: read its ACL, add the entry, write it back (2 requests per object);
- ``engine, 1 worker``: infra.gcs_acl's grant (``infra.gcs_acl.grant.apply``) as a sequential
  loop (ACLs come with the listing, 1 request per object);
- ``engine, N workers``: the same grant with up to N requests in flight.

Emulator settings (tests/gcs_acl/emulator_server.py): ``as shipped`` (one request at a time,
listen backlog 5, loopback, no latency), ``threaded`` (a thread per connection, backlog 128, like
a real service), and ``threaded + latency`` (each request delayed by --latency-ms, standing in
for the round trip to real GCS). Every run is checked afterwards: all N objects must hold the grant.
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from google.auth.credentials import AnonymousCredentials  # noqa: E402
from google.cloud import storage  # noqa: E402

from infra.gcs_acl.grant import apply  # noqa: E402
from infra.gcs_acl.scan import scan  # noqa: E402
from infra.gcs_acl.settings import RunSettings  # noqa: E402
from infra.gcs_acl.spec import normalize_spec  # noqa: E402

SERVER = ROOT / "tests" / "gcs_acl" / "emulator_server.py"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def seed(client: storage.Client, bucket: str, count: int) -> None:
    client.create_bucket(bucket)
    b = client.bucket(bucket)
    src = b.blob("__seed-source__")
    src.upload_from_string(b"x")
    for i in range(0, count, 100):
        with client.batch():
            for n in range(i, min(i + 100, count)):
                b.copy_blob(src, b, f"layers/sha256-{n:06d}")
    src.delete()


def naive_loop(client: storage.Client, bucket: str) -> int:
    changed = 0
    for blob in client.list_blobs(bucket):
        blob.acl.reload()
        blob.acl.all().grant_read()
        blob.acl.save()
        changed += 1
    return changed


def run_setting(label: str, extra: list[str], args: argparse.Namespace) -> list[str]:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, str(SERVER), "--port", str(port), *extra],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    assert proc.stdout.readline().startswith("ready")
    os.environ["STORAGE_EMULATOR_HOST"] = f"http://127.0.0.1:{port}"
    client = storage.Client(project="bench", credentials=AnonymousCredentials())
    rows: list[str] = []
    try:
        runs: list[tuple[str, int | None]] = [("engine, 1 worker", 1)]
        runs.append((f"engine, {args.workers} workers", args.workers))
        if not args.skip_naive:
            runs.insert(0, ("naive loop (GET+PATCH each)", None))
        times: dict[str, float] = {}
        for i, (name, workers) in enumerate(runs):
            bucket = f"bench-{i}-{port}"
            seed(client, bucket, args.objects)
            started = time.perf_counter()
            if workers is None:
                changed = naive_loop(client, bucket)
            else:
                settings = RunSettings(workers=workers, retry_deadline_s=120)
                changed = apply("grant", normalize_spec(bucket), settings).changed
            elapsed = time.perf_counter() - started
            assert changed == args.objects, (name, changed)
            assert scan(normalize_spec(bucket)).missing == 0
            times[name] = elapsed
            print(f"  {label}: {name}: {elapsed:.1f}s", file=sys.stderr, flush=True)
        base = times["engine, 1 worker"]
        for name, elapsed in times.items():
            rate = args.objects / elapsed
            rows.append(
                f"| {label} | {name} | {elapsed:.1f} | {rate:.0f} | {base / elapsed:.2f}x |"
            )
    finally:
        client.close()
        proc.terminate()
        proc.wait(timeout=10)
        proc.stdout.close()
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--objects", type=int, default=5000)
    parser.add_argument("--workers", type=int, default=16)
    parser.add_argument("--latency-ms", type=float, default=10.0)
    parser.add_argument("--skip-naive", action="store_true")
    args = parser.parse_args()
    delayed = ["--threaded", "--latency-ms", str(args.latency_ms)]
    settings = [
        ("as shipped", ["--backlog", "5"]),
        ("threaded", ["--threaded"]),
        (f"threaded + {args.latency_ms:g} ms", delayed),
    ]
    rows: list[str] = []
    for label, extra in settings:
        rows += run_setting(label, extra, args)
    print(f"{args.objects} objects, Python {sys.version.split()[0]}, {os.cpu_count()} cores")
    print("| emulator | grant by | seconds | objects/s | vs engine, 1 worker |")
    print("|---|---|---:|---:|---:|")
    print("\n".join(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())

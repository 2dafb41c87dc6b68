"""Benchmark: grant and revoke on an overloaded backend, as an operator runs them.

Usage: ``.venv/bin/python bench/gcs_acl/bench_overload.py [--objects 1200] [--runs 3]
[--checkout DIR]``. Prints a markdown table (bench/README.md keeps the numbers).

The backend is gcp-storage-emulator exactly as shipped (``python -m gcp_storage_emulator -d DIR
start``, on disk): one request at a time, a listen backlog of 5, the whole metadata file
rewritten on every write (20-40 writes/s with a thousand objects). Each run seeds a fresh
emulator with N objects, then runs ``python -m infra.gcs_acl grant`` and ``revoke`` with the
defaults (16 requests in flight at most, 60 s retry deadline) and records the time, whether the
run completed, what it left undone and how often the backend pushed back; every object is checked
afterwards. ``--checkout DIR`` runs the CLI from another checkout of this repository (e.g. a
worktree of an older commit) against the same kind of backend, for a before/after comparison.
"""

from __future__ import annotations

import argparse
import http.client
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from google.auth.credentials import AnonymousCredentials  # noqa: E402
from google.cloud import storage  # noqa: E402

PUSHBACKS = re.compile(r"pushed back (\d+) times, requests in flight lowered to (\d+)")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_stock_emulator(data_dir: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    cmd = [sys.executable, "-m", "gcp_storage_emulator", "-d", str(data_dir), "start"]
    proc = subprocess.Popen(
        [*cmd, "--host", "127.0.0.1", "--port", str(port), "--quiet"],
        stdout=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 30
    while True:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/storage/v1/b?project=bench")
            conn.getresponse().read()
            conn.close()
            return proc, f"http://127.0.0.1:{port}"
        except OSError:
            if time.monotonic() > deadline or proc.poll() is not None:
                raise RuntimeError("the stock emulator did not start") from None
            time.sleep(0.1)


def seed(client: storage.Client, bucket: str, count: int) -> list[str]:
    client.create_bucket(bucket)
    b = client.bucket(bucket)
    src = b.blob("__seed-source__")
    src.upload_from_string(b"x")
    names = [f"layers/sha256-{n:06d}" for n in range(count)]
    for i in range(0, count, 100):
        with client.batch():
            for name in names[i : i + 100]:
                b.copy_blob(src, b, name)
    src.delete()
    return names


def public(client: storage.Client, bucket: str) -> int:
    return sum(
        ("allUsers", "READER") in [(e["entity"], e["role"]) for e in b._properties.get("acl", [])]
        for b in client.list_blobs(bucket, projection="full")
    )


def one_run(args: argparse.Namespace, run: int) -> list[str]:
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        proc, url = start_stock_emulator(Path(tmp) / "data")
        client = storage.Client(
            project="bench",
            credentials=AnonymousCredentials(),
            client_options={"api_endpoint": url},
        )
        try:
            seed(client, "overloaded", args.objects)
            for action in ("grant", "revoke"):
                started = time.perf_counter()
                cli = subprocess.run(
                    [sys.executable, "-m", "infra.gcs_acl", action, "--bucket", "overloaded"],
                    cwd=args.checkout,
                    env={**os.environ, "STORAGE_EMULATOR_HOST": url},
                    capture_output=True,
                    text=True,
                    check=False,
                )
                elapsed = time.perf_counter() - started
                line = (cli.stdout.strip() or cli.stderr.strip()).splitlines()[-1]
                done = public(client, "overloaded")
                if action == "revoke":
                    done = args.objects - done
                complete = cli.returncode == 0 and "INCOMPLETE" not in line
                pushed = PUSHBACKS.search(line)
                times, lowest = pushed.groups() if pushed else ("-", "-")
                print(f"  run {run} {action}: {elapsed:.1f}s exit {cli.returncode}: {line}",
                      file=sys.stderr, flush=True)  # fmt: skip
                rows.append(
                    f"| {action} | {run} | {elapsed:.1f} | {args.objects / elapsed:.0f} "
                    f"| {'yes' if complete else 'no'} | {done} of {args.objects} "
                    f"| {times} | {lowest} |"
                )
        finally:
            client.close()
            proc.terminate()
            proc.wait(timeout=10)
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--objects", type=int, default=1200)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--checkout", type=Path, default=ROOT, help="run the CLI from here")
    args = parser.parse_args()
    rows: list[str] = []
    for run in range(1, args.runs + 1):
        rows += one_run(args, run)
    version = sys.version.split()[0]
    print(f"{args.objects} objects, stock gcp-storage-emulator on disk, Python {version}, "
          f"{os.cpu_count()} cores, CLI from {args.checkout}")  # fmt: skip
    print("| action | run | seconds | objects/s | complete | objects done | pushbacks "
          "| fewest in flight |\n|---|---|---:|---:|---|---|---:|---:|")  # fmt: skip
    print("\n".join(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())

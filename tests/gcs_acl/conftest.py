"""Fixtures for the gcs_acl tests: a real gcp-storage-emulator on loopback, buckets, seeding,
and a fault-injecting proxy (429/503/403, concurrency count) in front of it.

The emulator runs as a separate process (``emulator_server.py``: the PyPI emulator with the
adjustments its docstring lists), in memory, one per test session; tests that kill it start
their own, on disk. Every test gets ``STORAGE_EMULATOR_HOST`` pointing at it (a run then
uses anonymous credentials) and metadata/ADC variables that can only resolve to loopback.
"""

from __future__ import annotations

import http.client
import http.server
import itertools
import json
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Protocol, cast

import google.cloud.storage as storage
import pytest
from google.auth.credentials import AnonymousCredentials, Credentials

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
SERVER = HERE / "emulator_server.py"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Emulator:
    """One gcp-storage-emulator process on 127.0.0.1."""

    def __init__(self, data_dir: Path | None = None, *extra: str) -> None:
        self.data_dir = data_dir
        self.extra = extra
        self.proc: subprocess.Popen[str] | None = None
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> Emulator:
        self.port = free_port()
        cmd = [sys.executable, str(SERVER), "--port", str(self.port), *self.extra]
        if self.data_dir is not None:
            cmd += ["--data-dir", str(self.data_dir)]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        assert line.startswith("ready"), f"emulator did not start: {line!r}"
        return self

    def kill(self) -> None:
        """SIGKILL: no goodbye, connections refused from now on."""
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(timeout=10)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()
        if self.proc and self.proc.stdout:
            self.proc.stdout.close()


class StockEmulator(Emulator):
    """gcp-storage-emulator exactly as shipped (``python -m gcp_storage_emulator -d DIR start``),
    none of ``emulator_server.py``'s adjustments: on disk, one request at a time, a listen
    backlog of 5, every write rewrites the whole metadata file (about 20-40 writes/s with a
    thousand objects), no paging. An overloaded backend, as the overload test needs one."""

    def start(self) -> StockEmulator:
        assert self.data_dir is not None
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        cmd = [sys.executable, "-m", "gcp_storage_emulator", "-d", str(self.data_dir), "start"]
        cmd += ["--host", "127.0.0.1", "--port", str(self.port), "--quiet"]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, text=True)
        deadline = time.monotonic() + 30
        while True:  # it prints nothing when ready: ask until it answers
            assert self.proc.poll() is None, "the stock emulator exited"
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
                conn.request("GET", "/storage/v1/b?project=test")
                conn.getresponse().read()
                conn.close()
                return self
            except OSError:
                assert time.monotonic() < deadline, "the stock emulator did not start"
                time.sleep(0.1)


@pytest.fixture(scope="session")
def emulator() -> Iterator[Emulator]:
    emu = Emulator().start()
    yield emu
    emu.stop()


@pytest.fixture(autouse=True)
def _loopback_only(monkeypatch: pytest.MonkeyPatch, emulator: Emulator) -> None:
    monkeypatch.setenv("STORAGE_EMULATOR_HOST", emulator.url)
    # Should anything ever look for real credentials, it finds none and asks only loopback.
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(HERE / "no-such-credentials.json"))
    monkeypatch.setenv("GCE_METADATA_HOST", "127.0.0.1:9")
    monkeypatch.setenv("GCE_METADATA_IP", "127.0.0.1:9")
    monkeypatch.delenv("GOOGLE_CLOUD_PROJECT", raising=False)


# google-auth leaves AnonymousCredentials.__init__ unannotated: call it through a typed view.
_anonymous = cast(Callable[[], Credentials], AnonymousCredentials)


def client_for(url: str) -> storage.Client:
    return storage.Client(
        project="test",
        credentials=_anonymous(),
        client_options={"api_endpoint": url},
    )


@pytest.fixture
def gcs(emulator: Emulator) -> Iterator[storage.Client]:
    c = client_for(emulator.url)
    yield c
    c.close()


_names = itertools.count()


@pytest.fixture
def bucket(gcs: storage.Client, request: pytest.FixtureRequest) -> str:
    """A fresh, empty bucket (unique name per test)."""
    name = f"acl-{next(_names):03d}-{request.node.name[:30].lower()}"
    name = "".join(ch if ch.isalnum() or ch == "-" else "-" for ch in name).rstrip("-")
    gcs.create_bucket(name)
    return name


class Objects:
    """Test-side view of the emulator's objects (its own client, straight to the emulator)."""

    def __init__(self, client: storage.Client) -> None:
        self.client = client

    def seed(self, bucket: str, names: list[str]) -> None:
        """Create one tiny object per name: one upload, then server-side copies sent 100 to a
        JSON-API batch request (2,500 objects in about a second instead of 2,500 uploads)."""
        b = self.client.bucket(bucket)
        src = b.blob("__seed-source__")
        src.upload_from_string(b"x")
        for i in range(0, len(names), 100):
            with self.client.batch():
                for name in names[i : i + 100]:
                    b.copy_blob(src, b, name)
        src.delete()

    def acl(self, bucket: str, name: str) -> list[dict[str, str]]:
        """The object's stored ACL, entity/role only."""
        blob = self.client.bucket(bucket).blob(name)
        blob.reload(projection="full")
        return [{"entity": e["entity"], "role": e["role"]} for e in blob._properties["acl"]]

    def set_acl(self, bucket: str, name: str, acl: list[dict[str, str]]) -> None:
        """Replace an object's ACL behind the tool's back (a manual change)."""
        blob = self.client.bucket(bucket).blob(name)
        blob.acl.loaded = True
        blob.acl.save(acl=acl, client=self.client)

    def public(self, bucket: str, prefix: str = "") -> set[str]:
        """Names of objects whose stored ACL has allUsers:READER."""
        out = set()
        for b in self.client.list_blobs(bucket, prefix=prefix or None, projection="full"):
            entries = [(e["entity"], e["role"]) for e in b._properties.get("acl", [])]
            if ("allUsers", "READER") in entries:
                out.add(b.name)
        return out


@pytest.fixture
def objects(gcs: storage.Client) -> Objects:
    return Objects(gcs)


Rule = Callable[[str, str, int], int | None]
Hold = Callable[[str, str], bool]


class FaultProxy:
    """HTTP proxy on loopback in front of the emulator.

    ``rule(method, path, n)`` (n = 1-based count of requests so far) returns a status to answer
    instead of forwarding (e.g. 503, 429, 403) or None to forward. ``hold(method, path)``, when
    true, keeps the request waiting until :meth:`release` (a backend that does not answer yet:
    tests interrupt a run at that moment). ``latency_s`` delays every forwarded request. Counts
    requests, injected faults, held requests and the highest number of requests in flight.
    """

    def __init__(
        self, upstream_port: int, rule: Rule, hold: Hold | None = None, latency_s: float = 0.0
    ) -> None:
        self.upstream_port = upstream_port
        self.rule = rule
        self.hold = hold
        self.latency_s = latency_s
        self.released = threading.Event()
        self.lock = threading.Lock()
        self.requests = 0
        self.injected: list[tuple[str, str, int]] = []
        self.held = 0
        self.active = 0
        self.max_active = 0
        proxy = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *_: object) -> None:
                pass

            def _any(self) -> None:
                with proxy.lock:
                    proxy.requests += 1
                    n = proxy.requests
                    proxy.active += 1
                    proxy.max_active = max(proxy.max_active, proxy.active)
                try:
                    self._serve(n)
                finally:
                    with proxy.lock:
                        proxy.active -= 1

            def _serve(self, n: int) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                if proxy.hold is not None and proxy.hold(self.command, self.path):
                    with proxy.lock:
                        proxy.held += 1
                    proxy.released.wait(timeout=120)
                status = proxy.rule(self.command, self.path, n)
                if status is not None:
                    with proxy.lock:
                        proxy.injected.append((self.command, self.path, status))
                    payload = json.dumps(
                        {"error": {"code": status, "message": f"injected {status}"}}
                    ).encode()
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                    return
                time.sleep(proxy.latency_s)  # a round trip, as to a real backend
                conn = http.client.HTTPConnection("127.0.0.1", proxy.upstream_port, timeout=30)
                headers = {k: v for k, v in self.headers.items() if k.lower() != "host"}
                conn.request(self.command, self.path, body=body, headers=headers)
                resp = conn.getresponse()
                data = resp.read()
                self.send_response(resp.status)
                for k, v in resp.getheaders():
                    if k.lower() not in ("content-length", "transfer-encoding", "connection"):
                        self.send_header(k, v)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
                conn.close()

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _any

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def release(self) -> None:
        """Let every held request (and every later one) through."""
        self.released.set()

    def wait_held(self, count: int = 1, timeout: float = 30) -> None:
        """Wait until at least ``count`` requests are being held."""
        deadline = time.monotonic() + timeout
        while self.held < count:
            assert time.monotonic() < deadline, f"only {self.held} requests held"
            time.sleep(0.02)

    def close(self) -> None:
        self.release()
        self.server.shutdown()
        self.server.server_close()


class FaultProxyFactory(Protocol):
    """The ``fault_proxy`` fixture: ``fault_proxy(rule, hold=None, latency_s=0)``."""

    def __call__(
        self, rule: Rule, hold: Hold | None = None, latency_s: float = 0.0
    ) -> FaultProxy: ...


#: The ``own_emulator`` fixture: a new emulator on disk, started.
OwnEmulator = Callable[[], Emulator]
#: The ``objects_at`` fixture: an Objects view of the emulator at a URL.
ObjectsAt = Callable[[str], Objects]


@pytest.fixture
def fault_proxy(emulator: Emulator, monkeypatch: pytest.MonkeyPatch) -> Iterator[FaultProxyFactory]:
    """Factory: ``fault_proxy(rule, hold=None, latency_s=0)`` starts a FaultProxy in front of
    the session's emulator and points STORAGE_EMULATOR_HOST at it."""
    made: list[FaultProxy] = []

    def make(rule: Rule, hold: Hold | None = None, latency_s: float = 0.0) -> FaultProxy:
        p = FaultProxy(emulator.port, rule, hold, latency_s)
        made.append(p)
        monkeypatch.setenv("STORAGE_EMULATOR_HOST", p.url)
        return p

    yield make
    for p in made:
        p.close()


@pytest.fixture
def own_emulator(tmp_path: Path) -> Iterator[OwnEmulator]:
    """Factory for emulators on disk under tmp_path (they survive a kill); all stopped after."""
    made: list[Emulator] = []

    def make() -> Emulator:
        emu = Emulator(tmp_path / "emulator-data").start()
        made.append(emu)
        return emu

    yield make
    for emu in made:
        emu.stop()


@pytest.fixture
def objects_at() -> Iterator[ObjectsAt]:
    """Factory: an Objects view of the emulator at a URL (for tests' own emulators)."""
    clients: list[storage.Client] = []

    def make(url: str) -> Objects:
        c = client_for(url)
        clients.append(c)
        return Objects(c)

    yield make
    for c in clients:
        c.close()

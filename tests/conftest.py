"""Shared fixtures: the real program under the offline harness (infra/offline), the one harness,
and real HTTP servers on loopback for the clients that check a deployed color."""

from __future__ import annotations

import gc
import threading
from collections.abc import Callable, Iterator, Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from infra.offline import program, stackfile
from tests.helpers import Answer


def pytest_configure(config: pytest.Config) -> None:
    """Fewer garbage collections: the session keeps every render it made (the cache below) and
    the SDKs allocate many short-lived objects per resource, so at CPython's default thresholds
    (700, 10, 10) full collections keep re-walking a large heap (bench/README.md, Program)."""
    gc.set_threshold(50_000, 20, 20)


@pytest.fixture(scope="session")
def render_stack() -> Callable[..., program.Render]:
    """Runs the whole program for a stack file (plus overrides) and returns what it registered.

    Results are cached per argument set: a render is deterministic, and tests never mutate one.
    """
    cache: dict[tuple[object, ...], program.Render] = {}

    def run(
        stack: str, sets: Sequence[str] = (), secrets: Sequence[str] = (), preview: bool = False
    ) -> program.Render:
        key = (stack, tuple(sets), tuple(secrets), preview)
        if key not in cache:
            config = stackfile.merged(stack, sets, secrets)
            cache[key] = program.run(config, preview=preview)
        return cache[key]

    return run


@pytest.fixture
def http_stub() -> Iterator[Callable[[Answer], str]]:
    """Starts HTTP servers on 127.0.0.1 whose answers the test chooses; yields a starter that
    returns each server's URL. All are shut down after the test."""
    servers: list[ThreadingHTTPServer] = []

    def start(answer: Answer) -> str:
        count = {"n": 0}

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                count["n"] += 1
                status, body = answer(self.path, count["n"])
                data = body.encode()
                self.send_response(status)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: object) -> None:
                pass

        httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True).start()
        servers.append(httpd)
        return f"http://127.0.0.1:{httpd.server_address[1]}"

    yield start
    for httpd in servers:
        httpd.shutdown()
        httpd.server_close()

"""Shared fixtures: the real program under the offline harness (infra/offline), the one harness,
and real HTTP servers on loopback for the clients that check a deployed color."""

from __future__ import annotations

import atexit
import copy
import gc
import json
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from infra.offline import program, stackfile
from tests.helpers import Answer

#: The harness itself, whatever a test later puts in its place.
RUN = program.run


def pytest_configure(config: pytest.Config) -> None:
    """Fewer garbage collections: the session keeps every render it made (the cache below) and
    the SDKs allocate many short-lived objects per resource, so at CPython's default thresholds
    (700, 10, 10) full collections keep re-walking a large heap (bench/README.md, Program).

    For the same reason the interpreter's own collections while it shuts down took most of a
    second after the last test. By then pytest has collected and reported what the session left
    (its unraisable-exception check), so at exit the heap is frozen: those passes skip it."""
    gc.set_threshold(50_000, 20, 20)
    atexit.register(gc.freeze)


class Renders:
    """The program run once per config: what it registers depends only on what the engine hands
    it (stack, config values, which are secret, preview or not; the source folders under apps/
    are the checkout's), so every later run of the same config is answered from the first."""

    def __init__(self) -> None:
        self._kept: dict[tuple[object, ...], program.Render] = {}

    def shared(
        self,
        config: stackfile.StackConfig,
        preview: bool = False,
        deployed_images: Mapping[str, str] | None = None,
    ) -> program.Render:
        """The one render of ``config`` (and of the deployed digests the mocks are told), the
        same object for every caller: only for readers."""
        key = (
            config.stack,
            json.dumps(config.values, sort_keys=True),
            tuple(sorted(config.secret_keys)),
            preview,
            tuple(sorted((deployed_images or {}).items())),
        )
        if key not in self._kept:
            self._kept[key] = RUN(config, preview=preview, deployed_images=deployed_images)
        return self._kept[key]

    def run(
        self,
        config: stackfile.StackConfig,
        *,
        preview: bool = False,
        staging: Path | None = None,
        program: Callable[[], None] | None = None,
        deployed_images: Mapping[str, str] | None = None,
    ) -> program.Render:
        """:func:`infra.offline.program.run` for code under test: a copy of the shared render,
        so that nothing a tool does to its render reaches another test. A run that stages build
        contexts or runs another program is a real run."""
        if staging is not None or program is not None:
            return RUN(
                config,
                preview=preview,
                staging=staging,
                program=program,
                deployed_images=deployed_images,
            )
        return copy.deepcopy(self.shared(config, preview, deployed_images))


@pytest.fixture(scope="session")
def renders() -> Renders:
    return Renders()


@pytest.fixture(scope="session")
def render_stack(renders: Renders) -> Callable[..., program.Render]:
    """Runs the whole program for a stack file (plus overrides) and returns what it registered.

    One render per config for the session (:class:`Renders`): a render is deterministic, and tests
    never mutate one.
    """
    cache: dict[tuple[object, ...], program.Render] = {}

    def run(
        stack: str, sets: Sequence[str] = (), secrets: Sequence[str] = (), preview: bool = False
    ) -> program.Render:
        key = (stack, tuple(sets), tuple(secrets), preview)
        if key not in cache:
            cache[key] = renders.shared(stackfile.merged(stack, sets, secrets), preview)
        return cache[key]

    return run


@pytest.fixture
def shared_renders(renders: Renders, monkeypatch: pytest.MonkeyPatch) -> Renders:
    """For tests of tools that render the stack and only read the result (the release tool
    renders before and after every step, the doctor once per check): ``program.run`` answers from
    the session's renders, so a config a test or an earlier step already rendered costs a copy."""
    monkeypatch.setattr(program, "run", renders.run)
    return renders


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

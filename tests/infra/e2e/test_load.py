"""infra/e2e/load.py: one request against servers on loopback that answer well, badly, with a
redirect (to 127.0.0.2, never followed), slowly or not at all; and the load's phases and bounds,
with a stand-in request."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from infra.e2e.load import Load, Target, TargetError, get, target

Handler = Callable[[BaseHTTPRequestHandler], None]


@contextmanager
def server(handle: Handler, host: str = "127.0.0.1") -> Iterator[tuple[str, list[str]]]:
    """An HTTP server on ``host``; yields its URL and the paths it was asked for."""
    seen: list[str] = []

    class Serve(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            seen.append(self.path)
            handle(self)

        def log_message(self, *args: object) -> None:
            pass

    httpd = ThreadingHTTPServer((host, 0), Serve)
    threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True).start()
    try:
        yield f"http://{host}:{httpd.server_address[1]}", seen
    finally:
        httpd.shutdown()
        httpd.server_close()


def answer(status: int, body: bytes = b"ok\n", **headers: str) -> Handler:
    def handle(h: BaseHTTPRequestHandler) -> None:
        h.send_response(status)
        for name, value in headers.items():
            h.send_header(name, value)
        h.send_header("Content-Length", str(len(body)))
        h.end_headers()
        h.wfile.write(body)

    return handle


def test_an_answer_as_expected_passes() -> None:
    with server(answer(200)) as (url, seen):
        assert get(target(url, "/x"), 200, 2) is None
    assert seen == ["/x"]


def test_another_status_fails() -> None:
    with server(answer(500)) as (url, _):
        assert get(target(url, "/"), 200, 2) == "answered 500, expected 200"


def test_a_redirect_fails_and_is_not_followed() -> None:
    with (
        server(answer(200), host="127.0.0.2") as (elsewhere, followed),
        server(answer(302, Location=elsewhere + "/")) as (url, _),
    ):
        problem = get(target(url, "/"), 200, 2)
    assert problem == f"answered 302 (a redirect to {elsewhere}/; not followed)"
    assert followed == []


def test_the_timeout_bounds_the_whole_answer() -> None:
    # Headers at once, then a body of 20 bytes, one every 0.2 s (4 s in all).
    def trickle(h: BaseHTTPRequestHandler) -> None:
        h.send_response(200)
        h.send_header("Content-Length", "20")
        h.end_headers()
        for _ in range(20):
            try:
                h.wfile.write(b"x")
                h.wfile.flush()
            except OSError:
                return
            time.sleep(0.2)

    with server(trickle) as (url, _):
        started = time.monotonic()
        problem = get(target(url, "/"), 200, 1)
        took = time.monotonic() - started
    assert problem == "no complete answer within 1 s"
    assert took < 1.8, took


def test_a_server_that_never_answers_fails_within_the_timeout() -> None:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    try:
        started = time.monotonic()
        problem = get(Target("http", "127.0.0.1", listener.getsockname()[1], "/"), 200, 1)
        assert time.monotonic() - started < 1.8
    finally:
        listener.close()
    assert problem == "no complete answer within 1 s"


def test_a_closed_port_fails() -> None:
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    problem = get(Target("http", "127.0.0.1", port, "/"), 200, 1)
    assert problem is not None and problem.startswith("no answer (ConnectionRefusedError")


@pytest.mark.parametrize(
    ("url", "path", "expected"),
    [
        ("http://127.0.0.1:8080", "/", Target("http", "127.0.0.1", 8080, "/")),
        ("https://example.test/", "/a?b=1", Target("https", "example.test", 443, "/a?b=1")),
        ("http://[::1]", "/", Target("http", "::1", 80, "/")),
    ],
)
def test_a_url_and_a_path_make_the_target(url: str, path: str, expected: Target) -> None:
    assert target(url, path) == expected


def test_the_target_reads_as_a_url() -> None:
    assert str(Target("http", "::1", 80, "/")) == "http://[::1]:80/"


@pytest.mark.parametrize(
    ("url", "path"),
    [
        ("ftp://example.test", "/"),
        ("127.0.0.1:8080", "/"),
        ("http://user:pw@example.test", "/"),
        ("http://example.test/?q=1", "/"),
        ("http://example.test/app", "/"),
        ("http://example.test:0x50", "/"),
        ("http://example.test", "readyz"),
        ("http://example.test", "/a b"),
    ],
)
def test_an_unusable_url_or_path_is_refused(url: str, path: str) -> None:
    with pytest.raises(TargetError):
        target(url, path)


class Scripted:
    """A stand-in request: answers from a list, then ``None`` (success)."""

    def __init__(self, answers: list[str | None], pause: float = 0.0) -> None:
        self.answers = answers
        self.pause = pause
        self.calls = 0

    def __call__(self, where: Target, expect: int, timeout_s: float) -> str | None:
        self.calls += 1
        time.sleep(self.pause)
        return self.answers.pop(0) if self.answers else None


WHERE = Target("http", "127.0.0.1", 9, "/")


def test_requests_count_for_the_step_running_when_they_were_sent() -> None:
    load = Load(
        WHERE,
        rate=50,
        max_requests=1000,
        max_seconds=60,
        request=Scripted([None, "answered 503, expected 200"]),
    )
    load.start("one")
    assert load.wait_for("one", 3, 5)
    load.phase("two")
    assert load.wait_for("two", 3, 5)
    tally = load.stop()
    assert list(tally.sent) == ["one", "two"]
    assert tally.sent["one"] >= 3 and tally.sent["two"] >= 3
    assert [(f.phase, f.reason) for f in tally.failures] == [("one", "answered 503, expected 200")]
    assert tally.failed("two") == [] and tally.stopped is None
    assert tally.total == tally.sent["one"] + tally.sent["two"]


def test_the_rate_is_kept() -> None:
    load = Load(WHERE, rate=10, max_requests=1000, max_seconds=60, request=Scripted([]))
    load.start("one")
    time.sleep(1.05)
    sent = load.stop().sent["one"]
    # One at t=0, then one every 0.1 s: a busy machine may send fewer, never more.
    assert 6 <= sent <= 12, sent


def test_the_load_stops_at_its_request_bound() -> None:
    load = Load(WHERE, rate=50, max_requests=5, max_seconds=60, request=Scripted([]))
    load.start("one")
    assert not load.wait_for("one", 6, 2)
    tally = load.stop()
    assert tally.sent["one"] == 5 and tally.stopped == "it reached --max-requests 5"


def test_the_load_stops_at_its_time_bound() -> None:
    load = Load(WHERE, rate=50, max_requests=1000, max_seconds=0.3, request=Scripted([]))
    load.start("one")
    time.sleep(0.6)
    tally = load.tally()
    assert tally.stopped == "it reached --max-seconds 0.3"
    assert 3 <= tally.sent["one"] <= 17, tally.sent
    load.stop()


def test_waiting_for_a_request_gives_up_after_its_time() -> None:
    load = Load(WHERE, rate=1, max_requests=1000, max_seconds=60, request=Scripted([], pause=1))
    load.start("one")
    started = time.monotonic()
    assert not load.wait_for("one", 1, 0.3)
    assert time.monotonic() - started < 1
    load.stop()


def test_one_request_outside_the_load() -> None:
    load = Load(WHERE, rate=1, max_requests=1, max_seconds=60, request=Scripted(["no"]))
    assert load.request_once() == "no"
    assert load.request_once() is None
    assert load.tally().total == 0

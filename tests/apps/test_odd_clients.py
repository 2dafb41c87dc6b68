"""Slow, odd and abusive clients: every app answers or closes, stays up, and keeps serving.

The limits are the same in every app (docs/apps.md): a request head must be complete within
10 s, a head over 16 KiB is answered 431, CONNECT is answered 405, and at most 512 connections
are open at once. Each test runs the real apps as processes on loopback.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time

import pytest

from tests.apps.conftest import StartApp
from tests.apps.test_behaviour import ALL_APPS

HEADER_TIMEOUT_S = 10
MAX_CONNECTIONS = 512


def _read_all(sock: socket.socket) -> bytes:
    """Everything the server sends until it closes (a reset after its answer is fine)."""
    chunks = []
    try:
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    except ConnectionResetError:
        pass
    return b"".join(chunks)


def _trickle(port: int, start: bytes, piece: bytes, result: dict[str, object]) -> None:
    """Sends ``start``, then one ``piece`` every 5 s, for up to 30 s; records when the server
    closed the connection and everything it answered before (b"reset" for a reset)."""
    started = time.monotonic()
    answer = b""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(start)
        for _ in range(6):
            try:
                chunk = sock.recv(65536)
            except TimeoutError:
                try:
                    sock.sendall(piece)
                except (BrokenPipeError, ConnectionResetError):
                    answer += b"reset"
                    break
                continue
            except ConnectionResetError:
                answer += b"reset"
                break
            if not chunk:
                break
            answer += chunk
        else:
            return
    result.update(closed_after=time.monotonic() - started, answer=answer)


def test_a_head_or_body_sent_a_little_every_5_s_is_cut_off(start_app: StartApp) -> None:
    """Slowloris: one header line every 5 s; and a body one byte every 5 s. The head must be
    complete within 10 s (then 408 or a close), the whole request within 20 s; all five apps
    at once, and each keeps serving."""
    apps = [start_app(name) for name in ALL_APPS]
    slow_head = (b"GET / HTTP/1.1\r\nHost: t\r\n", b"X-Slow: 1\r\n", HEADER_TIMEOUT_S + 5)
    slow_body = (b"POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 100\r\n\r\nx", b"x", 25)
    runs = [(app, kind) for app in apps for kind in (slow_head, slow_body)]
    results: list[dict[str, object]] = [{} for _ in runs]
    threads = [
        threading.Thread(target=_trickle, args=(app.port, kind[0], kind[1], result))
        for (app, kind), result in zip(runs, results, strict=True)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    for (app, (start, _piece, bound)), got in zip(runs, results, strict=True):
        what = f"{app.spec.name}, {start.split(b' ')[0].decode()} sent slowly"
        closed = got.get("closed_after")
        assert isinstance(closed, float), f"{what}: still open after 30 s"
        assert closed < bound, f"{what}: closed only after {closed:.0f}s"
        answer = got["answer"]
        assert isinstance(answer, bytes)
        if start.startswith(b"GET"):  # nothing but a 408 (or a silent close)
            assert answer.startswith(b"HTTP/1.1 408 ") or answer in (b"", b"reset"), (
                f"{what}: answered {answer!r}"
            )
        assert app.request("GET", "/")[0] == 200, f"{app.spec.name} stopped serving"


@pytest.mark.parametrize("name", ALL_APPS)
def test_open_connections_are_bounded_and_the_app_recovers(start_app: StartApp, name: str) -> None:
    app = start_app(name)
    idle = [
        socket.create_connection(("127.0.0.1", app.port), timeout=5) for _ in range(MAX_CONNECTIONS)
    ]
    try:
        time.sleep(0.5)  # let the app accept them all
        with socket.create_connection(("127.0.0.1", app.port), timeout=5) as extra:
            try:
                answer = _read_all(extra)
            except TimeoutError:
                answer = b"(no answer in 5 s)"
        assert answer.startswith(b"HTTP/1.1 503 "), f"{name}: connection 513 got {answer[:60]!r}"
        assert b"connection: close" in answer.lower()
    finally:
        for sock in idle[:20]:
            sock.close()
    time.sleep(0.5)
    try:
        assert app.request("GET", "/")[0] == 200, f"{name} did not recover"
        app.wait_for_line('"-" 503 0.0ms too many connections')
    finally:
        for sock in idle[20:]:
            sock.close()


@pytest.mark.parametrize("name", ALL_APPS)
def test_a_300_kb_header_is_431_and_the_app_survives(start_app: StartApp, name: str) -> None:
    app = start_app(name)
    head = b"GET / HTTP/1.1\r\nHost: t\r\nX-Big: " + b"a" * 300_000 + b"\r\n\r\n"
    with socket.create_connection(("127.0.0.1", app.port), timeout=5) as sock:
        # The server stops reading after its answer; the answer is still there to read.
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            sock.sendall(head)
        answer = _read_all(sock)
    assert answer.startswith(b"HTTP/1.1 431 "), f"{name}: a 300 kB header got {answer[:60]!r}"
    assert app.request("GET", "/")[0] == 200
    app.wait_for_line('"-" 431 0.0ms ')


@pytest.mark.parametrize("name", ALL_APPS)
def test_connect_is_405(start_app: StartApp, name: str) -> None:
    app = start_app(name)
    with socket.create_connection(("127.0.0.1", app.port), timeout=5) as sock:
        sock.sendall(
            b"CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n"
            b"Connection: close\r\n\r\n"
        )
        answer = _read_all(sock)
    assert answer.startswith(b"HTTP/1.1 405 "), f"{name}: CONNECT got {answer[:60]!r}"
    assert b"\r\nallow: get, head\r\n" in answer.lower()
    app.wait_for_line('CONNECT example.com:443 HTTP/1.1" 405 ')
    assert app.request("GET", "/")[0] == 200


@pytest.mark.parametrize("name", ALL_APPS)
def test_sigterm_while_a_request_body_is_arriving_answers_it(
    start_app: StartApp, name: str
) -> None:
    app = start_app(name)
    sock = socket.create_connection(("127.0.0.1", app.port), timeout=5)
    sock.sendall(b"POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 10\r\n\r\n12345")
    time.sleep(0.3)  # the head is in, half of the body too
    app.proc.terminate()
    app.wait_for_line("SIGTERM received, draining")
    time.sleep(0.2)
    # The Node apps answer a POST as soon as its head is in (before the SIGTERM) and may have
    # closed since; py-web-server answers once the body is complete.
    with contextlib.suppress(BrokenPipeError, ConnectionResetError):
        sock.sendall(b"67890")
    answer = _read_all(sock)  # returns once the app has closed the connection
    sock.close()
    assert answer.startswith((b"HTTP/1.1 405 ", b"HTTP/1.1 503 ")), (
        f"{name}: a request whose body arrived while draining got {answer[:80]!r}"
    )
    if name == "py-web-server":  # it answers after the SIGTERM: telling the client to go away
        assert b"\r\nconnection: close\r\n" in answer.lower()
    assert app.proc.wait(timeout=5) == 0

"""One GET through the Gateway: headers kept, no redirect followed, one deadline for all of it."""

from __future__ import annotations

import socket
import threading
import time

import pytest

from infra.canary.http import get
from tests.infra.canary.stubs import _Quiet, _serve


def test_headers_are_kept_in_lower_case_and_host_is_sent() -> None:
    seen: dict[str, str] = {}

    class Handler(_Quiet):
        def do_GET(self) -> None:
            seen["host"] = self.headers.get("Host", "")
            self.send_response(200)
            self.send_header("X-Color", "blue")
            self.send_header("Set-Cookie", "a=1")
            self.send_header("Set-Cookie", "b=2")
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

    server, _ = _serve(Handler)
    try:
        answer = get(f"http://127.0.0.1:{server.server_port}/x?y=1", 5.0, host="kubia.example")
    finally:
        server.shutdown()
        server.server_close()
    assert (answer.status, answer.body) == (200, b"ok")
    assert answer.headers["x-color"] == "blue"
    assert answer.headers["set-cookie"] == "a=1, b=2"
    assert seen["host"] == "kubia.example"


def test_a_redirect_is_an_answer_not_followed() -> None:
    class Handler(_Quiet):
        def do_GET(self) -> None:
            self.reply(302, b"", {"Location": "http://203.0.113.1/"})

    server, _ = _serve(Handler)
    try:
        answer = get(f"http://127.0.0.1:{server.server_port}/", 5.0)
    finally:
        server.shutdown()
        server.server_close()
    assert answer.status == 302
    assert answer.headers["location"] == "http://203.0.113.1/"


def test_a_body_that_trickles_is_cut_at_the_deadline() -> None:
    listener = socket.create_server(("127.0.0.1", 0))
    stop = threading.Event()

    def serve() -> None:
        conn, _ = listener.accept()
        conn.recv(65536)
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n")
        while not stop.is_set():
            try:
                conn.sendall(b"x")
            except OSError:
                break
            time.sleep(0.05)
        conn.close()

    threading.Thread(target=serve, daemon=True).start()
    began = time.monotonic()
    try:
        with pytest.raises(TimeoutError, match=r"no whole answer within 0\.4 s"):
            get(f"http://127.0.0.1:{listener.getsockname()[1]}/", 0.4)
    finally:
        stop.set()
        listener.close()
    assert time.monotonic() - began < 2


@pytest.mark.parametrize("url", ["ftp://x/", "http:///path", "no-scheme"])
def test_not_an_http_url(url: str) -> None:
    with pytest.raises(ValueError, match="not an http"):
        get(url, 1.0)


def test_no_time_left() -> None:
    with pytest.raises(TimeoutError, match="no time left"):
        get("http://127.0.0.1:9/", 0)

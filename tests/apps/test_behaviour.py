"""Behaviour every app in apps/ shares: answers, probes, bad requests, access log, SIGTERM drain.

Each test runs the real app (Node or Python) as a process on a free loopback port.
"""

from __future__ import annotations

import json
import socket
import time

import pytest

from tests.apps.conftest import RunAppOnce, StartApp

ALL_APPS = ["py-web-server", "node-app", "kubia", "imageview-blue", "imageview-green"]


def _raw(port: int, payload: bytes, host: str = "127.0.0.1") -> bytes:
    """Sends raw bytes, returns everything the server answers before closing."""
    with socket.create_connection((host, port), timeout=5) as sock:
        sock.sendall(payload)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def _read_response(sock: socket.socket) -> bytes:
    """Reads one response whose server closes the connection after it (Connection: close)."""
    chunks = []
    while chunk := sock.recv(65536):
        chunks.append(chunk)
    return b"".join(chunks)


@pytest.mark.parametrize("name", ALL_APPS)
def test_root_answers_with_app_body_and_safe_headers(start_app: StartApp, name: str) -> None:
    app = start_app(name)
    status, headers, body = app.request("GET", "/")
    assert status == 200, f"{name}: GET / answered {status}"
    assert app.spec.marker in body.decode(), f"{name}: GET / body {body!r}"
    assert headers["content-type"] == app.spec.content_type
    assert headers["content-length"] == str(len(body))
    assert headers["cache-control"] == "no-store"
    assert headers["x-content-type-options"] == "nosniff"
    assert "server" not in headers, f"{name} advertises its server: {headers.get('server')}"


@pytest.mark.parametrize("name", ALL_APPS)
@pytest.mark.parametrize("host", ["127.0.0.1", "::1"])
def test_listens_on_all_interfaces(start_app: StartApp, name: str, host: str) -> None:
    app = start_app(name)
    assert app.request("GET", "/healthz", host=host)[0] == 200


@pytest.mark.parametrize("name", ALL_APPS)
def test_health_and_readiness_probes(start_app: StartApp, name: str) -> None:
    app = start_app(name)
    assert app.request("GET", "/healthz")[::2] == (200, b"ok\n")
    assert app.request("GET", "/readyz")[::2] == (200, b"ready\n")
    # Probes ignore query strings, as kubelet may add none but proxies sometimes do.
    assert app.request("GET", "/readyz?verbose=1")[0] == 200


@pytest.mark.parametrize("name", ALL_APPS)
def test_head_has_headers_but_no_body(start_app: StartApp, name: str) -> None:
    app = start_app(name)
    status, headers, body = app.request("HEAD", "/")
    assert (status, body) == (200, b"")
    assert int(headers["content-length"]) > 0


@pytest.mark.parametrize("name", ALL_APPS)
@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/no-such-page", 404),
        ("POST", "/no-such-page", 404),
        ("POST", "/", 405),
        ("DELETE", "/healthz", 405),
        ("PUT", "/readyz", 405),
    ],
)
def test_bad_paths_and_methods_are_4xx(
    start_app: StartApp, name: str, method: str, path: str, status: int
) -> None:
    app = start_app(name)
    got, headers, _ = app.request(method, path)
    assert got == status, f"{name}: {method} {path} answered {got}, wanted {status}"
    if status == 405:
        assert headers["allow"] == "GET, HEAD"
    assert app.request("GET", "/healthz")[0] == 200, f"{name} stopped answering"


@pytest.mark.parametrize("name", ALL_APPS)
def test_oversized_headers_are_431_and_server_survives(start_app: StartApp, name: str) -> None:
    app = start_app(name)
    status, _, _ = app.request("GET", "/", headers={"X-Big": "a" * 20_000})
    assert status == 431, f"{name}: a 20 kB header answered {status}"
    assert app.request("GET", "/")[0] == 200


@pytest.mark.parametrize("name", ALL_APPS)
@pytest.mark.parametrize(
    "payload", [b"GARBAGE\r\n\r\n", b"GET / HTTP/1.1\r\nNo colon here\r\n\r\n"]
)
def test_malformed_requests_are_400_and_logged(
    start_app: StartApp, name: str, payload: bytes
) -> None:
    app = start_app(name)
    before = len(app.lines)
    answer = _raw(app.port, payload)
    assert answer.startswith(b"HTTP/1.1 400 "), f"{name}: {payload!r} answered {answer[:60]!r}"
    assert app.request("GET", "/")[0] == 200
    app.wait_for_line('"GET / HTTP/1.1" 200 ')
    rejected = app.lines[before:-1]
    assert len(rejected) == 1, f"{name}: wanted one log line for the bad request, got {rejected}"


@pytest.mark.parametrize("name", ALL_APPS)
def test_one_access_log_line_per_request(start_app: StartApp, name: str) -> None:
    app = start_app(name)
    paths = ["/", "/healthz", "/nope?x=1"]
    for path in paths:
        app.request("GET", path)
    for path, status in zip(paths, [200, 200, 404], strict=True):
        app.wait_for_line(f'"GET {path} HTTP/1.1" {status} ')
    assert app.stop() == 0
    access = [line for line in app.lines if '" ' in line and "HTTP/1.1" in line]
    assert len(access) == len(paths), f"{name}: access lines {access!r}"


@pytest.mark.parametrize("name", ALL_APPS)
def test_sigterm_drains_in_flight_requests_and_exits_zero(start_app: StartApp, name: str) -> None:
    app = start_app(name)
    # An idle keep-alive connection (a request done), and two requests only half sent.
    idle = socket.create_connection(("127.0.0.1", app.port), timeout=5)
    idle.sendall(b"GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n")
    assert idle.recv(65536).startswith(b"HTTP/1.1 200 ")
    in_flight = socket.create_connection(("127.0.0.1", app.port), timeout=5)
    in_flight.sendall(b"GET / HTTP/1.1\r\nHost: t\r\n")
    probe = socket.create_connection(("127.0.0.1", app.port), timeout=5)
    probe.sendall(b"GET /readyz HTTP/1.1\r\nHost: t\r\n")
    time.sleep(0.3)  # let the server read the partial heads

    app.proc.terminate()
    app.wait_for_line("SIGTERM received, draining")
    # New connections are refused at once; the idle one is closed by the server.
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", app.port), timeout=2).close()
    assert idle.recv(65536) == b"", f"{name} kept an idle keep-alive connection open"

    # The half-sent requests still get their answers, each telling the client to go away.
    in_flight.sendall(b"\r\n")
    answer = _read_response(in_flight)
    assert answer.startswith(b"HTTP/1.1 200 "), f"{name}: in-flight request got {answer!r}"
    assert app.spec.marker.encode() in answer
    assert b"connection: close" in answer.lower()
    probe.sendall(b"\r\n")
    ready = _read_response(probe)
    assert ready.startswith(b"HTTP/1.1 503 "), f"{name}: /readyz while draining got {ready!r}"

    assert app.proc.wait(timeout=5) == 0
    app.wait_for_line("stopped (drained)")
    for sock in (idle, in_flight, probe):
        sock.close()


@pytest.mark.parametrize("name", ALL_APPS)
def test_sigterm_gives_up_on_a_stuck_client_at_the_deadline(start_app: StartApp, name: str) -> None:
    app = start_app(name)
    stuck = socket.create_connection(("127.0.0.1", app.port), timeout=5)
    stuck.sendall(b"GET / HTTP/1.1\r\nHost: t\r\n")  # never finished
    time.sleep(0.3)
    app.proc.terminate()
    assert app.proc.wait(timeout=5) == 0
    app.wait_for_line("stopped (deadline)")
    stuck.close()


@pytest.mark.parametrize("name", ALL_APPS)
def test_sigint_drains_too(start_app: StartApp, name: str) -> None:
    app = start_app(name)
    app.proc.send_signal(2)
    assert app.proc.wait(timeout=5) == 0
    app.wait_for_line("SIGINT received, draining")


PORT_RULE = (
    "allowed is a whole number 0-65535 in decimal digits "
    "(no sign, spaces, decimal point, exponent or leading zeros)"
)
BAD_PORTS = [
    "http",
    "-1",
    "+80",
    "70000",
    "65536",
    "8080.5",
    "8080.0",
    " 80",
    "80 ",
    "1e3",
    "0x50",
    "080",
    "8080\n",
    "\u0668\u0660",  # Arabic-Indic digits: str.isdigit() says yes, Number() says NaN
]


@pytest.mark.parametrize("port", BAD_PORTS)
def test_one_port_rule_one_message_one_exit_code_in_every_app(
    run_app_once: RunAppOnce, port: str
) -> None:
    """Python and Node read PORT by the same rule: each app refuses the same values with the
    same line and exit code 2."""
    quoted = json.dumps(port, ensure_ascii=False)
    for name in ALL_APPS:
        proc = run_app_once(name, PORT=port)
        assert proc.returncode == 2, f"{name} with PORT={port!r}: exit {proc.returncode}"
        assert proc.stderr == f"invalid PORT {quoted}: {PORT_RULE}\n", f"{name}: {proc.stderr!r}"


def _free_port() -> int:
    with socket.socket(socket.AF_INET6) as s:
        s.bind(("::", 0))
        return int(s.getsockname()[1])


@pytest.mark.parametrize("name", ALL_APPS)
def test_a_valid_port_is_the_port_listened_on(start_app: StartApp, name: str) -> None:
    port = _free_port()
    app = start_app(name, PORT=str(port))
    assert app.port == port and app.request("GET", "/healthz")[0] == 200


@pytest.mark.parametrize("name", ALL_APPS)
def test_a_port_in_use_is_one_line_and_exit_1(
    start_app: StartApp, run_app_once: RunAppOnce, name: str
) -> None:
    first = start_app(name)
    proc = run_app_once(name, PORT=str(first.port))
    assert proc.returncode == 1, proc.stderr
    assert proc.stderr == (
        f"cannot listen on port {first.port} (EADDRINUSE): another process is using it\n"
    )
    assert first.request("GET", "/")[0] == 200


COLOR_RULE = (
    "allowed is a lower-case name such as blue or green (letters, digits and '-', starting "
    "with a letter, at most 31 characters)"
)


@pytest.mark.parametrize("name", ALL_APPS)
def test_every_answer_says_which_color_served_it(start_app: StartApp, name: str) -> None:
    """COLOR (which the program sets per color) comes back in X-Color on every answer: the
    page, the probes, a 404, a 405, and the 431 written outside any handler, so requests through
    the Gateway can be counted by color whatever they got."""
    app = start_app(name, COLOR="green")
    answers = {
        "GET /": app.request("GET", "/"),
        "GET /readyz": app.request("GET", "/readyz"),
        "GET /nope": app.request("GET", "/no-such-page"),
        "POST /": app.request("POST", "/"),
        "431": app.request("GET", "/", headers={"X-Big": "a" * 20_000}),
    }
    assert {k: a[0] for k, a in answers.items()} == {
        "GET /": 200,
        "GET /readyz": 200,
        "GET /nope": 404,
        "POST /": 405,
        "431": 431,
    }, name
    assert {k: a[1].get("x-color") for k, a in answers.items()} == dict.fromkeys(
        answers, "green"
    ), name


@pytest.mark.parametrize("name", ALL_APPS)
def test_no_color_no_header(start_app: StartApp, name: str) -> None:
    """Run by hand (docker run, the labs) without COLOR: no X-Color at all, not an empty one."""
    headers = start_app(name).request("GET", "/")[1]
    assert "x-color" not in headers, f"{name}: {headers}"


@pytest.mark.parametrize("color", ["Blue", "blue\r\nX-Evil: 1", "-blue", "b" * 32, "blue green"])
def test_one_color_rule_one_message_one_exit_code_in_every_app(
    run_app_once: RunAppOnce, color: str
) -> None:
    """A COLOR that could break the header it goes into stops every app the same way."""
    quoted = json.dumps(color, ensure_ascii=False)
    for name in ALL_APPS:
        proc = run_app_once(name, COLOR=color, PORT="0")
        assert proc.returncode == 2, f"{name} with COLOR={color!r}: exit {proc.returncode}"
        assert proc.stderr == f"invalid COLOR {quoted}: {COLOR_RULE}\n", f"{name}: {proc.stderr!r}"

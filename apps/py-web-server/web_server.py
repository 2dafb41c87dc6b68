"""py-web-server (seed S1): a Tornado server that answers ``Hostname: <hostname>`` on port 8888.

Production shape of the lab's ``web-server.py``: PORT overrides the port (0 picks a free one, for
tests), ``/healthz`` and ``/readyz`` probes, one access-log line per request on stdout, plain-text
4xx for unknown paths, other methods and oversized request heads, and a SIGTERM/SIGINT drain
that stops accepting, lets in-flight requests finish and exits within 2 s (also as PID 1).

COLOR (the color the pod serves as, set by the program) is answered in an ``X-Color`` header on
every answer, so requests can be counted by the color that served them (the Node apps' rule).

Slow or odd clients (the same limits as the Node apps, apps/lib/node/lifecycle.js): a request
head must arrive complete within 10 s and its body within 10 s more (else 408; an idle keep-alive
connection is just closed); a head over 16 KiB is answered 431; at most 512 connections are open
at once (more are answered 503 and closed).
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import json
import logging
import os
import re
import signal
import socket
import sys
import time
from collections.abc import Awaitable
from http import HTTPStatus
from typing import Any

from tornado.httpserver import HTTPServer
from tornado.ioloop import PeriodicCallback
from tornado.iostream import IOStream, UnsatisfiableReadError
from tornado.netutil import bind_sockets
from tornado.web import Application, HTTPError, RequestHandler

DEFAULT_PORT = 8888
#: A request head (request line + headers) larger than this is answered 431 (Node's default).
MAX_HEADER_BYTES = 16 * 1024
#: A connection must deliver a complete request head this long after it opened or after its
#: previous answer; the body has as long again (Node: headersTimeout, requestTimeout).
HEADER_TIMEOUT_S = 10.0
BODY_TIMEOUT_S = 10.0
#: Connections open at once; more are answered 503 and closed (slow clients cannot pile up).
MAX_CONNECTIONS = 512
#: After answering a request it will not read (431, 408), the rest the client sends is read and
#: dropped for up to this long, so closing does not reset the connection before the client has
#: read the answer.
LINGER_S = 1.0
LINGER_BYTES = 1024 * 1024
#: Longest time from SIGTERM to exit; Kubernetes and ``docker stop`` are told 2 s is enough.
DRAIN_DEADLINE_S = 1.5
DRAIN_POLL_S = 0.025
HOSTNAME = socket.gethostname()
#: PORT: decimal digits, no sign, spaces, point, exponent or leading zero (the Node apps' rule).
PORT_RE = re.compile(r"0|[1-9][0-9]{0,4}")
#: COLOR: a lower-case name such as blue or green (the Node apps' rule).
COLOR_RE = re.compile(r"[a-z][a-z0-9-]{0,30}")
LISTEN_ERRORS = {
    "EADDRINUSE": "another process is using it",
    "EACCES": "not allowed for this user (ports below 1024 need privileges)",
}


def raw_answer(status: int, extra: str = "", color: str | None = None) -> bytes:
    """A complete plain-text answer that closes the connection, for requests no handler sees."""
    reason = HTTPStatus(status).phrase
    body = f"{reason}\n"
    color_line = f"X-Color: {color}\r\n" if color else ""
    return (
        f"HTTP/1.1 {status} {reason}\r\nConnection: close\r\n"
        f"Content-Type: text/plain; charset=utf-8\r\nContent-Length: {len(body)}\r\n"
        f"Cache-Control: no-store\r\nX-Content-Type-Options: nosniff\r\n{color_line}{extra}"
        f"\r\n{body}"
    ).encode()


class AccessLog:
    """Buffers log lines and writes them once per event-loop turn.

    One write per request would cost a measurable share of throughput (bench/apps); one per
    loop turn costs almost nothing and still reaches ``docker logs`` at once.
    """

    def __init__(self) -> None:
        self._pending: list[str] = []

    def line(self, text: str) -> None:
        if not self._pending:
            asyncio.get_running_loop().call_soon(self.flush)
        self._pending.append(text + "\n")

    def flush(self) -> None:
        if self._pending:
            sys.stdout.write("".join(self._pending))
            self._pending.clear()
        sys.stdout.flush()

    def request(self, handler: RequestHandler) -> None:
        req = handler.request
        ms = req.request_time() * 1000
        self.line(
            f'{req.remote_ip} "{req.method} {req.uri} {req.version}" {handler.get_status()} '
            f"{ms:.1f}ms"
        )


class HeadGuard:
    """Watches one connection for the server: whether it waits for a request head (and has part
    of one), the deadline of the head or body it waits for, and a 431 for a head Tornado finds
    too large.

    Tornado reads every request head with one ``read_until_regex`` call and, when the head
    exceeds ``max_header_size``, closes the stream with ``UnsatisfiableReadError`` without an
    answer. Both methods are wrapped on this stream only (they are public and Tornado calls them
    through the instance), so the answer can be written on a duplicate of the socket before
    Tornado closes its own. Per request this costs a clock read and two stores: deadlines are
    checked by :meth:`DrainingServer.sweep` once a second, not by a timer per request.
    """

    def __init__(self, stream: IOStream, server: DrainingServer) -> None:
        self.stream = stream
        self.server = server
        self.head: Any = None
        """The pending head read (a future), ``_READING`` while it starts, None before."""
        self.served = False
        """A request was read before (then an idle wait for the next one is a keep-alive)."""
        self.in_body = False
        self.deadline = time.monotonic() + HEADER_TIMEOUT_S
        self._read_until_regex = stream.read_until_regex
        self._close = stream.close
        stream.read_until_regex = self.read_until_regex  # type: ignore[method-assign]
        stream.close = self.close  # type: ignore[method-assign]

    @property
    def waiting_for_head(self) -> bool:
        return self.head is _READING or (self.head is not None and not self.head.done())

    def has_partial_head(self) -> bool:
        # Bytes of a head not yet complete sit in the read buffer (no public accessor; tornado
        # is pinned in requirements.txt).
        return bool(int(getattr(self.stream, "_read_buffer_size", 0)))

    def busy(self) -> bool:
        """A request is on its way or being answered (a drain waits for it)."""
        if self.stream.writing():
            return True
        return not self.waiting_for_head or self.has_partial_head()

    def read_until_regex(self, regex: bytes, max_bytes: int | None = None) -> Awaitable[bytes]:
        self.served = self.head is not None
        self.head = _READING  # a head too large may close the stream before this returns
        self.in_body = False
        self.deadline = time.monotonic() + HEADER_TIMEOUT_S
        self.head = future = self._read_until_regex(regex, max_bytes)
        return future

    def check(self, now: float) -> None:
        """Called once a second: end a connection whose head or body is overdue."""
        if self.stream.closed() or self.stream.writing():
            return
        if self.waiting_for_head:
            if now > self.deadline:
                # Like Node: a client that started a request (or never sent one) is told 408;
                # an idle keep-alive connection is just closed.
                started = self.has_partial_head() or not self.served
                self.server.reject(self, 408 if started else None, "head timeout")
        elif self.head is not None and not self.in_body:
            # The head is in: the body (if any) must follow within BODY_TIMEOUT_S.
            self.in_body = True
            self.deadline = now + BODY_TIMEOUT_S
        elif self.in_body and now > self.deadline:
            self.server.reject(self, 408, "body timeout")

    def close(self, exc_info: Any = False) -> None:
        """Every close of the stream, Tornado's own included, comes through here."""
        if isinstance(exc_info, UnsatisfiableReadError) and self.waiting_for_head:
            self.server.reject(self, 431, "head too large", exc_info)
            return
        self.close_now(exc_info)

    def close_now(self, exc_info: Any = False) -> None:
        self.server.guards.pop(self.stream, None)
        self._close(exc_info)


_READING = object()


class DrainingServer(HTTPServer):
    """An HTTPServer that tracks its connections: it bounds them, answers what Tornado would
    drop unanswered, and lets a drain close the idle ones."""

    def initialize(self, *args: Any, **kwargs: Any) -> None:
        self.log: AccessLog = kwargs.pop("access_log")
        self.color: str | None = kwargs.pop("color")
        self.busy_answer = raw_answer(503, "Retry-After: 1\r\n", self.color)
        super().initialize(*args, **kwargs)
        self.guards: dict[IOStream, HeadGuard] = {}
        self.lingering: set[asyncio.Task[None]] = set()
        self.draining = False

    def handle_stream(self, stream: IOStream, address: tuple[str, int]) -> None:
        if len(self.guards) + len(self.lingering) >= MAX_CONNECTIONS:
            # Not read, so a reset may follow the answer; the client sees 503 or a reset.
            self.log.line(f'{address[0]} "-" 503 0.0ms too many connections')
            with contextlib.suppress(OSError):
                stream.socket.send(self.busy_answer)
            stream.close()
            return
        self.guards[stream] = HeadGuard(stream, self)  # removed when the stream closes
        super().handle_stream(stream, address)

    def reject(self, guard: HeadGuard, status: int | None, why: str, exc_info: Any = False) -> None:
        """Answer ``status`` (None: nothing) on a connection Tornado will not answer, then close
        it; the client's remaining bytes are read and dropped for a moment first."""
        stream = guard.stream
        sock = stream.socket.dup() if status is not None and stream.socket is not None else None
        guard.close_now(exc_info)
        if sock is None or status is None:
            return
        try:
            remote = sock.getpeername()[0]
        except OSError:
            remote = "-"
        self.log.line(f'{remote} "-" {status} 0.0ms {why}')
        task = asyncio.get_running_loop().create_task(
            linger(sock, raw_answer(status, color=self.color))
        )
        self.lingering.add(task)
        task.add_done_callback(self.lingering.discard)

    def sweep(self) -> None:
        """End connections whose request head or body is overdue (see HeadGuard.check)."""
        now = time.monotonic()
        for guard in list(self.guards.values()):
            guard.check(now)

    def close_idle(self) -> int:
        """Closes connections with no request in progress; returns how many are still busy."""
        busy = 0
        for stream, guard in list(self.guards.items()):
            if stream.closed():
                self.guards.pop(stream, None)
            elif guard.busy():
                busy += 1
            else:
                guard.close_now()
        return busy


async def linger(sock: socket.socket, answer: bytes) -> None:
    """Send ``answer``, half-close, and read what the client still sends (dropped) until it
    closes, LINGER_BYTES arrive or LINGER_S pass; then close."""
    loop = asyncio.get_running_loop()
    sock.setblocking(False)
    try:
        await loop.sock_sendall(sock, answer)
        sock.shutdown(socket.SHUT_WR)
        deadline = loop.time() + LINGER_S
        dropped = 0
        while dropped < LINGER_BYTES and loop.time() < deadline:
            data = await asyncio.wait_for(loop.sock_recv(sock, 65536), deadline - loop.time())
            if not data:
                break
            dropped += len(data)
    except (OSError, TimeoutError):
        pass
    finally:
        sock.close()


class PlainHandler(RequestHandler):
    """Base handler: GET/HEAD only, plain-text answers and errors."""

    SUPPORTED_METHODS = ("GET", "HEAD")

    def set_default_headers(self) -> None:
        self.clear_header("Server")
        self.set_header("Content-Type", "text/plain; charset=utf-8")
        self.set_header("Cache-Control", "no-store")
        self.set_header("X-Content-Type-Options", "nosniff")
        color = self.settings["server"].color
        if color:
            self.set_header("X-Color", color)
        # Every answer while draining, errors included (a 405 comes before prepare()).
        if self.settings["server"].draining:
            self.set_header("Connection", "close")

    def compute_etag(self) -> None:
        return None  # answers are tiny and per host: an ETag only costs a hash per request

    def head(self, *args: str) -> None:
        self.get(*args)

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        if status_code == 405:
            self.set_header("Allow", "GET, HEAD")
        self.finish(f"{status_code} {HTTPStatus(status_code).phrase}\n")


class HostnameHandler(PlainHandler):
    def get(self) -> None:
        self.write(f"Hostname: {HOSTNAME}\n")


class HealthHandler(PlainHandler):
    def get(self) -> None:
        self.write("ok\n")


class ReadyHandler(PlainHandler):
    def get(self) -> None:
        if self.settings["server"].draining:
            self.set_status(503)
            self.write("draining\n")
        else:
            self.write("ready\n")


class NotFoundHandler(PlainHandler):
    """Unknown paths are 404 whatever the method (routing comes before the method check)."""

    SUPPORTED_METHODS = ("GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS")  # type: ignore[assignment]

    def prepare(self) -> None:
        raise HTTPError(404)


def fail(message: str, code: int) -> None:
    """Stop before serving: one line on stderr, the exit code the Node apps use too."""
    sys.stderr.write(message + "\n")
    sys.exit(code)


def parse_port(raw: str | None) -> int:
    """PORT as the Node apps parse it (lifecycle.js, parsePort): unset or empty is the default;
    else decimal digits without sign, spaces, point, exponent or leading zero, 0-65535."""
    if raw is None or raw == "":
        return DEFAULT_PORT
    if PORT_RE.fullmatch(raw) and int(raw) <= 65535:
        return int(raw)
    fail(
        f"invalid PORT {json.dumps(raw, ensure_ascii=False)}: allowed is a whole number "
        "0-65535 in decimal digits (no sign, spaces, decimal point, exponent or leading zeros)",
        2,
    )
    raise AssertionError("unreachable")


def parse_color(raw: str | None) -> str | None:
    """COLOR as the Node apps parse it (lifecycle.js, parseColor): unset or empty is no X-Color
    header; else a lower-case name. Anything else stops the app before it answers anything."""
    if raw is None or raw == "":
        return None
    if COLOR_RE.fullmatch(raw):
        return raw
    fail(
        f"invalid COLOR {json.dumps(raw, ensure_ascii=False)}: allowed is a lower-case name such "
        "as blue or green (letters, digits and '-', starting with a letter, at most 31 "
        "characters)",
        2,
    )
    raise AssertionError("unreachable")


def listen(port: int) -> list[socket.socket]:
    """Sockets on all interfaces (IPv4 and IPv6), or one line and exit 1 (port in use, ...)."""
    try:
        return bind_sockets(port, address="")
    except OSError as err:
        code = errno.errorcode.get(err.errno or 0, "error")
        why = LISTEN_ERRORS.get(code, err.strerror or "")
        fail(f"cannot listen on port {port} ({code}): {why}", 1)
        raise AssertionError("unreachable") from err


async def main() -> None:
    port = parse_port(os.environ.get("PORT"))
    color = parse_color(os.environ.get("COLOR"))
    # Requests Tornado's parser rejects (400) never reach a handler; its one "Malformed HTTP
    # message from ..." line per such request stands in for the access-log line.
    logging.basicConfig(stream=sys.stdout, level=logging.WARNING, format="%(message)s")
    logging.getLogger("tornado.general").setLevel(logging.INFO)
    # Heads too large are answered (and logged) by the server itself.
    logging.getLogger("tornado.general").addFilter(
        lambda record: not record.getMessage().startswith("Unsatisfiable read")
    )
    log = AccessLog()
    # The HTTPServer needs the Application and the handlers need the server (for its draining
    # flag): create the server first and hand it over through the settings.
    app = Application(
        [(r"/", HostnameHandler), (r"/healthz", HealthHandler), (r"/readyz", ReadyHandler)],
        default_handler_class=NotFoundHandler,
        log_function=log.request,
    )
    server = DrainingServer(
        app,
        access_log=log,
        color=color,
        max_header_size=MAX_HEADER_BYTES,
        max_body_size=64 * 1024,
        # Tornado's own timeouts (which close without an answer) stay behind HeadGuard's.
        body_timeout=2 * BODY_TIMEOUT_S,
        idle_connection_timeout=2 * HEADER_TIMEOUT_S,
    )
    app.settings["server"] = server
    sockets = listen(port)
    server.add_sockets(sockets)

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    received: list[str] = []

    def on_signal(name: str) -> None:
        received.append(name)
        stop.set()

    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, on_signal, signal.Signals(signum).name)
    sweeper = PeriodicCallback(server.sweep, 1000)
    sweeper.start()
    log.line(f"py-web-server listening on port {sockets[0].getsockname()[1]}")

    await stop.wait()
    sweeper.stop()
    server.draining = True
    log.line(f"py-web-server: {received[0]} received, draining")
    server.stop()  # no new connections
    deadline = time.monotonic() + DRAIN_DEADLINE_S
    while server.close_idle() and time.monotonic() < deadline:
        await asyncio.sleep(DRAIN_POLL_S)
    how = "drained" if server.close_idle() == 0 else "deadline"
    await server.close_all_connections()
    log.line(f"py-web-server: stopped ({how})")
    log.flush()


if __name__ == "__main__":
    asyncio.run(main())

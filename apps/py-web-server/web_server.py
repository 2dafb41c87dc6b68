"""py-web-server (seed S1): a Tornado server that answers ``Hostname: <hostname>`` on port 8888.

Production shape of the lab's ``web-server.py``: PORT overrides the port (0 picks a free one, for
tests), ``/healthz`` and ``/readyz`` probes, one access-log line per request on stdout, plain-text
4xx for unknown paths, other methods and oversized request heads, and a SIGTERM/SIGINT drain
that stops accepting, lets in-flight requests finish and exits within 2 s (also as PID 1).
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import socket
import sys
import time
from http import HTTPStatus
from typing import Any

from tornado.httpserver import HTTPServer
from tornado.iostream import IOStream
from tornado.netutil import bind_sockets
from tornado.web import Application, HTTPError, RequestHandler

DEFAULT_PORT = 8888
#: Requests whose head (request line + headers) is larger are answered 431.
MAX_HEADER_BYTES = 16 * 1024
#: Tornado's own hard limit: past it the connection is closed unanswered, so keep it well above
#: MAX_HEADER_BYTES that the application answers with a 431.
HARD_HEADER_BYTES = 256 * 1024
#: Longest time from SIGTERM to exit; Kubernetes and ``docker stop`` are told 2 s is enough.
DRAIN_DEADLINE_S = 1.5
DRAIN_POLL_S = 0.025
HOSTNAME = socket.gethostname()


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


class DrainingServer(HTTPServer):
    """An HTTPServer that remembers its connections so a drain can close the idle ones."""

    def initialize(self, *args: Any, **kwargs: Any) -> None:
        super().initialize(*args, **kwargs)
        self.streams: set[IOStream] = set()
        self.draining = False

    def handle_stream(self, stream: IOStream, address: tuple[str, int]) -> None:
        self.streams.add(stream)
        super().handle_stream(stream, address)

    def close_idle(self) -> int:
        """Closes connections with no request in progress; returns how many are still busy."""
        busy = 0
        for stream in list(self.streams):
            if stream.closed():
                self.streams.discard(stream)
            # Bytes of a request not yet complete sit in the read buffer (there is no public
            # accessor; tornado is pinned), a response not yet sent in the write buffer.
            elif stream.writing() or int(getattr(stream, "_read_buffer_size", 0)):
                busy += 1
            else:
                stream.close()
                self.streams.discard(stream)
        return busy


class PlainHandler(RequestHandler):
    """Base handler: GET/HEAD only, plain-text answers and errors, header size limit."""

    SUPPORTED_METHODS = ("GET", "HEAD")

    def set_default_headers(self) -> None:
        self.clear_header("Server")
        self.set_header("Content-Type", "text/plain; charset=utf-8")
        self.set_header("Cache-Control", "no-store")
        self.set_header("X-Content-Type-Options", "nosniff")

    def prepare(self) -> None:
        server: DrainingServer = self.settings["server"]
        if server.draining:
            self.set_header("Connection", "close")
        head = len(self.request.method or "") + len(self.request.uri or "") + 12
        head += sum(len(k) + len(v) + 4 for k, v in self.request.headers.get_all())
        if head > MAX_HEADER_BYTES:
            raise HTTPError(431)

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


def parse_port(raw: str | None) -> int:
    if raw in (None, ""):
        return DEFAULT_PORT
    if raw.isdigit() and int(raw) <= 65535:
        return int(raw)
    raise SystemExit(f"invalid PORT {raw!r}: allowed is an integer 0-65535")


async def main() -> None:
    port = parse_port(os.environ.get("PORT"))
    # Requests Tornado's parser rejects (400, oversized head) never reach a handler; its one
    # "Malformed HTTP message from ..." line per such request stands in for the access-log line.
    logging.basicConfig(stream=sys.stdout, level=logging.WARNING, format="%(message)s")
    logging.getLogger("tornado.general").setLevel(logging.INFO)
    log = AccessLog()
    # The HTTPServer needs the Application and the handlers need the server (for its draining
    # flag): create the server first and hand it over through the settings.
    settings: dict[str, Any] = {"log_function": log.request}
    app = Application(
        [(r"/", HostnameHandler), (r"/healthz", HealthHandler), (r"/readyz", ReadyHandler)],
        default_handler_class=NotFoundHandler,
        **settings,
    )
    server = DrainingServer(app, max_header_size=HARD_HEADER_BYTES, max_body_size=64 * 1024)
    app.settings["server"] = server
    sockets = bind_sockets(port, address="")  # all interfaces, IPv4 and IPv6
    server.add_sockets(sockets)

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    received: list[str] = []

    def on_signal(name: str) -> None:
        received.append(name)
        stop.set()

    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, on_signal, signal.Signals(signum).name)
    log.line(f"py-web-server listening on port {sockets[0].getsockname()[1]}")

    await stop.wait()
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

"""One HTTP GET with no redirect followed and a timeout that bounds all of it — connecting, the
headers and the body, however slowly they trickle in. The one HTTP client of the release checks:
the split check through the Gateway (which counts ``X-Color``, so the answer keeps its headers,
and may send a ``Host`` header for an HTTPRoute with ``hostnames``) and the live check after a
promote (:func:`infra.release.verify.get`)."""

from __future__ import annotations

import contextlib
import http.client
import socket
import threading
import time
import urllib.parse
from dataclasses import dataclass

#: The most of a page one request reads.
MAX_BODY = 1 << 20


@dataclass(frozen=True)
class Answer:
    """What one request got."""

    status: int
    headers: dict[str, str]
    """Header names in lower case; a repeated header keeps its values joined by ``", "``."""
    body: bytes


def get(
    url: str, timeout_s: float, host: str | None = None, headers: dict[str, str] | None = None
) -> Answer:
    """One GET of ``url``, redirects not followed, done within ``timeout_s`` or
    :class:`TimeoutError`. Other failures raise :class:`OSError`, :class:`ValueError` or
    :class:`http.client.HTTPException`."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"not an http(s) URL: {url!r}")
    if timeout_s <= 0:
        raise TimeoutError("no time left for a request")
    kind = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    connection = kind(parts.hostname, parts.port, timeout=timeout_s)
    deadline = time.monotonic() + timeout_s
    cut = threading.Event()

    def stop() -> None:  # the deadline passed: whatever the request waits for ends now
        cut.set()
        if connection.sock is not None:
            with contextlib.suppress(OSError):
                connection.sock.shutdown(socket.SHUT_RDWR)

    timer = threading.Timer(timeout_s, stop)
    timer.daemon = True
    timer.start()
    try:
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        sent = {"Connection": "close", **(headers or {})}
        if host is not None:
            sent["Host"] = host
        connection.request("GET", target, headers=sent)
        response = connection.getresponse()
        body = bytearray()
        while len(body) < MAX_BODY and not cut.is_set():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            if connection.sock is not None:
                connection.sock.settimeout(remaining)
            chunk = response.read1(min(1 << 16, MAX_BODY - len(body)))
            if not chunk:
                break
            body += chunk
        if cut.is_set() or time.monotonic() >= deadline:
            raise TimeoutError(f"no whole answer within {timeout_s:g} s")
        seen: dict[str, str] = {}
        for name, value in response.getheaders():
            key = name.lower()
            seen[key] = f"{seen[key]}, {value}" if key in seen else value
        return Answer(response.status, seen, bytes(body))
    except (OSError, http.client.HTTPException):
        # The socket's own timeout can fire a moment before the timer does: past the deadline,
        # either way the answer was not whole in time.
        if cut.is_set() or time.monotonic() >= deadline:
            raise TimeoutError(f"no whole answer within {timeout_s:g} s") from None
        raise
    finally:
        timer.cancel()
        connection.close()

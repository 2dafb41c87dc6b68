"""The load generator: steady GET requests to the live URL from a background thread while the
release steps run, each request counted against the step running at the time.

A request *fails* when it gets no complete answer within its timeout (connection refused or
reset, a body still arriving when the time is up: the timeout bounds the whole request, not each
read), or when it answers anything but the expected status. A redirect is a failure and is never
followed: a user's browser would follow it, but the live Service must answer itself.

The load is bounded twice, by a number of requests and by a duration; reaching either bound
stops it, and the run then fails (the steps left would run without load).
"""

from __future__ import annotations

import http.client
import ssl
import threading
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field

#: Most of a body a request reads; an answer longer than this counts as complete.
BODY_MAX = 1 << 20
#: Identifies the load in the apps' access logs.
USER_AGENT = "gke-bluegreen-e2e"


class TargetError(ValueError):
    """A live URL the load cannot use; the message says what is allowed."""


@dataclass(frozen=True)
class Target:
    """Where each request goes."""

    scheme: str
    host: str
    port: int
    path: str

    def __str__(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{self.scheme}://{host}:{self.port}{self.path}"


def target(url: str, path: str) -> Target:
    """The request target for the live ``url`` (``http(s)://host[:port]``) and ``path``."""
    parts = urllib.parse.urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise TargetError(f"{url!r} is not a URL: http://HOST[:PORT] or https://HOST[:PORT]")
    if parts.username or parts.password or parts.query or parts.fragment:
        raise TargetError(f"{url!r}: give only the scheme, host and port (no user, query or #)")
    if parts.path not in ("", "/"):
        raise TargetError(f"{url!r}: give the path with --path, not in the URL")
    if not path.startswith("/") or any(c.isspace() for c in path):
        raise TargetError(f"--path {path!r}: an absolute URL path such as /, without spaces")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise TargetError(f"{url!r}: the port is not a number from 1 to 65535") from None
    return Target(parts.scheme, parts.hostname, port, path)


def get(where: Target, expect: int, timeout_s: float) -> str | None:
    """One GET on a new connection: ``None`` when it answers ``expect`` completely within
    ``timeout_s``, else what went wrong."""
    deadline = time.monotonic() + timeout_s
    conn: http.client.HTTPConnection
    if where.scheme == "https":
        conn = http.client.HTTPSConnection(
            where.host, where.port, timeout=timeout_s, context=ssl.create_default_context()
        )
    else:
        conn = http.client.HTTPConnection(where.host, where.port, timeout=timeout_s)
    try:
        conn.request("GET", where.path, headers={"User-Agent": USER_AGENT, "Connection": "close"})
        _bound(conn, deadline, timeout_s)
        response = conn.getresponse()
        received = 0
        while received < BODY_MAX:
            _bound(conn, deadline, timeout_s)
            chunk = response.read1(BODY_MAX - received)
            if not chunk:
                break
            received += len(chunk)
    except TimeoutError:
        return f"no complete answer within {timeout_s:g} s"
    except (OSError, http.client.HTTPException) as err:
        return f"no answer ({type(err).__name__}: {err})"
    finally:
        conn.close()
    if 300 <= response.status < 400:
        where_to = response.getheader("Location", "?")
        return f"answered {response.status} (a redirect to {where_to}; not followed)"
    if response.status != expect:
        return f"answered {response.status}, expected {expect}"
    return None


def _bound(conn: http.client.HTTPConnection, deadline: float, timeout_s: float) -> None:
    """Gives the next socket read only the time left of the whole request."""
    left = deadline - time.monotonic()
    if left <= 0:
        raise TimeoutError(f"no complete answer within {timeout_s:g} s")
    if conn.sock is not None:
        conn.sock.settimeout(left)


@dataclass(frozen=True)
class Failure:
    """One failed request."""

    phase: str
    """The step running when it was sent."""
    second: float
    """When it was sent, in seconds since the load started."""
    reason: str


@dataclass
class Tally:
    """Requests per phase, in the order the phases began."""

    sent: dict[str, int] = field(default_factory=dict)
    failures: list[Failure] = field(default_factory=list)
    stopped: str | None = None
    """Why the load stopped by itself (a bound reached); ``None`` while it runs or when it was
    stopped."""

    def failed(self, phase: str) -> list[Failure]:
        return [f for f in self.failures if f.phase == phase]

    @property
    def total(self) -> int:
        return sum(self.sent.values())


Request = Callable[[Target, int, float], "str | None"]


class Load:
    """Sends one request every ``1 / rate`` seconds (each on a new connection, one at a time)
    until stopped or a bound is reached."""

    def __init__(
        self,
        where: Target,
        *,
        rate: float,
        expect: int = 200,
        timeout_s: float = 5.0,
        max_requests: int,
        max_seconds: float,
        request: Request = get,
    ) -> None:
        self.where = where
        self.rate = rate
        self.expect = expect
        self.timeout_s = timeout_s
        self.max_requests = max_requests
        self.max_seconds = max_seconds
        self._request = request
        self._lock = threading.Lock()
        self._done = threading.Condition(self._lock)
        self._stop = threading.Event()
        self._phase = "before the first step"
        self._tally = Tally()
        self._thread = threading.Thread(target=self._run, name="e2e-load", daemon=True)
        self._started = 0.0

    def start(self, phase: str) -> None:
        """Starts sending; requests count for ``phase`` until :meth:`phase` names another."""
        self.phase(phase)
        self._started = time.monotonic()
        self._thread.start()

    def request_once(self) -> str | None:
        """One request outside the load (before it starts): ``None`` when it answers."""
        return self._request(self.where, self.expect, self.timeout_s)

    def phase(self, name: str) -> None:
        """From now on requests count for ``name``."""
        with self._lock:
            self._phase = name
            self._tally.sent.setdefault(name, 0)

    def wait_for(self, phase: str, requests: int, timeout_s: float) -> bool:
        """Waits until ``requests`` requests of ``phase`` have completed (or the load stopped);
        True when they have."""
        end = time.monotonic() + timeout_s
        with self._done:
            while self._tally.sent.get(phase, 0) < requests and not self._stopped():
                left = end - time.monotonic()
                if left <= 0:
                    break
                self._done.wait(left)
            return self._tally.sent.get(phase, 0) >= requests

    def tally(self) -> Tally:
        """A copy of the counts so far."""
        with self._lock:
            return Tally(dict(self._tally.sent), list(self._tally.failures), self._tally.stopped)

    def stop(self) -> Tally:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(self.timeout_s + 5)
        return self.tally()

    def _stopped(self) -> bool:
        return self._stop.is_set() or self._tally.stopped is not None

    def _run(self) -> None:
        interval = 1.0 / self.rate
        next_at = time.monotonic()
        while not self._stop.is_set():
            now = time.monotonic()
            if now - self._started >= self.max_seconds or self._tally.total >= self.max_requests:
                with self._done:
                    self._tally.stopped = (
                        f"it reached --max-seconds {self.max_seconds:g}"
                        if now - self._started >= self.max_seconds
                        else f"it reached --max-requests {self.max_requests}"
                    )
                    self._done.notify_all()
                return
            if next_at > now and self._stop.wait(next_at - now):
                return
            next_at = max(next_at + interval, time.monotonic())
            with self._lock:
                phase = self._phase
            sent_at = time.monotonic() - self._started
            problem = self._request(self.where, self.expect, self.timeout_s)
            with self._done:
                self._tally.sent[phase] = self._tally.sent.get(phase, 0) + 1
                if problem is not None:
                    self._tally.failures.append(Failure(phase, sent_at, problem))
                self._done.notify_all()

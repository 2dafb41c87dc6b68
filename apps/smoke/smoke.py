"""The smoke check a color passes before the live Service selects it (a Kubernetes Job runs it).

It asks the color, through the color's own Service, for the readiness path (it must answer 200)
and then for the smoke path (it must answer the expected status and, if set, contain the expected
text), up to SMOKE_ATTEMPTS times with SMOKE_INTERVAL seconds between tries, and exits 0 on the
first success. Otherwise it exits 1 with what it saw last; a setting it cannot use exits 2. One
line per try on stdout (the Job's log, which `pulumi up` shows when the Job fails).

Settings (environment): SMOKE_URL (http://<service>:<port>), SMOKE_READY_PATH, SMOKE_PATH,
SMOKE_STATUS, SMOKE_TEXT (optional), SMOKE_ATTEMPTS, SMOKE_INTERVAL, SMOKE_TIMEOUT (seconds).
Python's standard library only: the image is the official slim Python and this file.
"""

from __future__ import annotations

import http.client
import os
import re
import sys
import time
import urllib.parse
from collections.abc import Mapping

#: A smoke check reads at most this much of a body (enough for any page's marker text).
BODY_MAX = 1 << 20
_PATH = re.compile(r"/[A-Za-z0-9/\-._~%!$&'()*+,;=:@?]*")


class Setting(Exception):
    """An unusable setting; the message names it and what is allowed."""


def _int(env: Mapping[str, str], name: str, default: int, lo: int, hi: int) -> int:
    text = env.get(name, str(default))
    if not re.fullmatch(r"[0-9]{1,6}", text) or not lo <= int(text) <= hi:
        raise Setting(f"{name}={text!r}: a whole number from {lo} to {hi}")
    return int(text)


def _path(env: Mapping[str, str], name: str, default: str) -> str:
    text = env.get(name, default)
    if not _PATH.fullmatch(text):
        raise Setting(f"{name}={text!r}: an absolute URL path such as /readyz")
    return text


def settings(env: Mapping[str, str]) -> dict[str, object]:
    url = env.get("SMOKE_URL", "")
    parts = urllib.parse.urlsplit(url)
    if parts.scheme != "http" or not parts.hostname or parts.path not in ("", "/"):
        raise Setting(f"SMOKE_URL={url!r}: http://<host>[:<port>], no path")
    port = parts.port or 80
    return {
        "host": parts.hostname,
        "port": port,
        "ready": _path(env, "SMOKE_READY_PATH", "/readyz"),
        "path": _path(env, "SMOKE_PATH", "/"),
        "status": _int(env, "SMOKE_STATUS", 200, 100, 599),
        "text": env.get("SMOKE_TEXT", ""),
        "attempts": _int(env, "SMOKE_ATTEMPTS", 10, 1, 100),
        "interval": _int(env, "SMOKE_INTERVAL", 3, 0, 60),
        "timeout": _int(env, "SMOKE_TIMEOUT", 5, 1, 60),
    }


def get(host: str, port: int, path: str, timeout: int) -> tuple[int, str]:
    """One GET: (status, start of the body as text)."""
    conn = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        conn.request("GET", path, headers={"User-Agent": "gke-bluegreen-smoke"})
        response = conn.getresponse()
        return response.status, response.read(BODY_MAX).decode("utf-8", "replace")
    finally:
        conn.close()


def attempt(s: Mapping[str, object]) -> str | None:
    """``None`` when the color passes, else what was wrong."""
    host, port, timeout = str(s["host"]), int(str(s["port"])), int(str(s["timeout"]))
    try:
        status, _ = get(host, port, str(s["ready"]), timeout)
        if status != 200:
            return f"GET {s['ready']} answered {status}, not 200 (not ready)"
        status, body = get(host, port, str(s["path"]), timeout)
    except (OSError, http.client.HTTPException) as err:
        return f"no answer from {host}:{port}: {err}"
    if status != s["status"]:
        return f"GET {s['path']} answered {status}, expected {s['status']}"
    if s["text"] and str(s["text"]) not in body:
        return f"GET {s['path']} answered {status} without {str(s['text'])!r}"
    return None


def main(env: Mapping[str, str]) -> int:
    try:
        s = settings(env)
    except Setting as err:
        print(f"smoke: {err}", flush=True)
        return 2
    attempts = int(str(s["attempts"]))
    target = f"http://{s['host']}:{s['port']}"
    for n in range(1, attempts + 1):
        problem = attempt(s)
        if problem is None:
            print(f"smoke ok: {target}{s['path']} answered {s['status']} (try {n})", flush=True)
            return 0
        print(f"smoke try {n}/{attempts}: {problem}", flush=True)
        if n < attempts:
            time.sleep(int(str(s["interval"])))
    print(f"smoke FAILED: {target} after {attempts} tries", flush=True)
    return 1


if __name__ == "__main__":
    try:
        sys.exit(main(os.environ))
    except KeyboardInterrupt:
        sys.exit(130)

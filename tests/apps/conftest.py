"""Runs each app in apps/ as a real process on an ephemeral loopback port for the behaviour tests.

Every app prints ``<name> listening on port <N>`` once it accepts connections; with ``PORT=0``
the kernel picks N, so tests never collide on ports.
"""

from __future__ import annotations

import http.client
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.prerequisites import unavailable

ROOT = Path(__file__).resolve().parents[2]
APPS = ROOT / "apps"


@dataclass(frozen=True)
class AppSpec:
    """How to start one app and what its ``GET /`` answers."""

    name: str
    folder: Path
    argv: tuple[str, ...]
    #: Substring of the ``GET /`` body that proves the right app answered.
    marker: str
    content_type: str = "text/plain; charset=utf-8"


SPECS = {
    "py-web-server": AppSpec(
        "py-web-server",
        APPS / "py-web-server",
        (sys.executable, "web_server.py"),
        "Hostname: ",
    ),
    # The Node apps run from apps/ with the same relative argv as the image's CMD from /app,
    # which mirrors apps/ (the shared code is found at ../lib/node from each app folder).
    "node-app": AppSpec("node-app", APPS, ("node", "node-app/app.js"), "Hello World\n"),
    "kubia": AppSpec("kubia", APPS, ("node", "kubia/app.js"), "you've hit "),
    "imageview-blue": AppSpec(
        "imageview-blue",
        APPS,
        ("node", "lib/imageview/app.js", "imageview/blue/color.json"),
        "<h1>blue</h1>",
        "text/html; charset=utf-8",
    ),
    "imageview-green": AppSpec(
        "imageview-green",
        APPS,
        ("node", "lib/imageview/app.js", "imageview/green/color.json"),
        "<h1>green</h1>",
        "text/html; charset=utf-8",
    ),
}


@dataclass
class RunningApp:
    """A started app: its process, port and every stdout line so far."""

    spec: AppSpec
    proc: subprocess.Popen[str]
    port: int = 0
    lines: list[str] = field(default_factory=list)
    pump: threading.Thread | None = None

    def request(
        self,
        method: str,
        path: str,
        headers: dict[str, str] | None = None,
        host: str = "127.0.0.1",
    ) -> tuple[int, dict[str, str], bytes]:
        conn = http.client.HTTPConnection(host, self.port, timeout=5)
        try:
            conn.request(method, path, headers=headers or {})
            resp = conn.getresponse()
            return resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read()
        finally:
            conn.close()

    def wait_for_line(self, needle: str, timeout: float = 5.0) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for line in list(self.lines):
                if needle in line:
                    return line
            time.sleep(0.02)
        raise AssertionError(f"{self.spec.name}: no log line with {needle!r} in {self.lines!r}")

    def stop(self) -> int:
        self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout=10)


#: The ``start_app`` fixture: ``start_app(name, **env)``.
StartApp = Callable[..., RunningApp]
#: The ``run_app_once`` fixture: ``run_app_once(name, *args, **env)``.
RunAppOnce = Callable[..., subprocess.CompletedProcess[str]]


def _need_node() -> None:
    if shutil.which("node"):
        return
    unavailable("node is not installed: the Node app tests need it")


@pytest.fixture
def start_app() -> Iterator[StartApp]:
    """``start_app(name, **env)`` starts an app on a free port and waits until it listens."""
    started: list[RunningApp] = []

    def start(name: str, **env: str) -> RunningApp:
        spec = SPECS[name]
        if spec.argv[0] == "node":
            _need_node()
        proc = subprocess.Popen(
            spec.argv,
            cwd=spec.folder,
            env={"PATH": os.environ["PATH"], "PORT": "0", **env},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        app = RunningApp(spec, proc)
        started.append(app)
        assert proc.stdout is not None
        stdout = proc.stdout

        def pump() -> None:
            for line in stdout:
                app.lines.append(line.rstrip("\n"))

        app.pump = threading.Thread(target=pump, daemon=True)
        app.pump.start()
        banner = app.wait_for_line(" listening on port ")
        app.port = int(banner.rsplit(" ", 1)[1])
        return app

    yield start
    for app in started:
        if app.proc.poll() is None:
            app.proc.kill()
        app.proc.wait(timeout=5)
        if app.pump is not None:
            app.pump.join(timeout=5)
        if app.proc.stdout is not None:
            app.proc.stdout.close()


@pytest.fixture
def run_app_once() -> RunAppOnce:
    """``run_app_once(name, *args, **env)`` runs an app that is expected to exit on its own;
    ``args``, when given, replace all after the interpreter (the script and its arguments)."""

    def run(name: str, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
        spec = SPECS[name]
        if spec.argv[0] == "node":
            _need_node()
        return subprocess.run(
            (spec.argv[0], *args) if args else spec.argv,
            cwd=spec.folder,
            env={"PATH": os.environ["PATH"], **env},
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )

    return run

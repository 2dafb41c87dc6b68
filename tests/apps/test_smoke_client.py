"""apps/smoke/smoke.py, the smoke Job's client, against real HTTP servers on loopback: it passes a
good color, fails one that is ready but answers 500 or the wrong page, waits out a slow start,
and refuses settings it cannot use."""

from __future__ import annotations

import importlib.util
import io
import socket
import subprocess
import sys
from collections.abc import Callable
from contextlib import redirect_stdout
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import Answer

SMOKE = Path(__file__).resolve().parents[2] / "apps" / "smoke" / "smoke.py"
_spec = importlib.util.spec_from_file_location("smoke_client", SMOKE)
assert _spec and _spec.loader
smoke: Any = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(smoke)


def run(env: dict[str, str]) -> tuple[int, str]:
    out = io.StringIO()
    with redirect_stdout(out):
        code = smoke.main({"SMOKE_INTERVAL": "0", "SMOKE_TIMEOUT": "2", **env})
    return code, out.getvalue()


def test_a_good_color_passes(http_stub: Callable[[Answer], str]) -> None:
    url = http_stub(lambda path, _: (200, "<h1>green</h1>" if path == "/" else "ok"))
    code, out = run({"SMOKE_URL": url, "SMOKE_TEXT": "green"})
    assert code == 0, out
    assert out.startswith(f"smoke ok: {url}/ answered 200 (try 1)")


def test_ready_but_answering_500_fails_after_every_attempt(
    http_stub: Callable[[Answer], str],
) -> None:
    url = http_stub(lambda path, _: (200, "ok") if path == "/readyz" else (500, "boom"))
    code, out = run({"SMOKE_URL": url, "SMOKE_ATTEMPTS": "3"})
    assert code == 1
    lines = out.splitlines()
    assert lines[:3] == [f"smoke try {n}/3: GET / answered 500, expected 200" for n in (1, 2, 3)]
    assert lines[-1] == f"smoke FAILED: {url} after 3 tries"


@pytest.mark.parametrize(
    ("answer", "env", "problem"),
    [
        (lambda p, _: (503, "draining"), {}, "GET /readyz answered 503, not 200 (not ready)"),
        (lambda p, _: (200, "blue page"), {"SMOKE_TEXT": "green"}, "without 'green'"),
        (lambda p, _: (200, "x"), {"SMOKE_PATH": "/v2", "SMOKE_STATUS": "204"}, "expected 204"),
    ],
)
def test_what_fails_says_why(
    http_stub: Callable[[Answer], str], answer: Answer, env: dict[str, str], problem: str
) -> None:
    code, out = run({"SMOKE_URL": http_stub(answer), "SMOKE_ATTEMPTS": "1", **env})
    assert code == 1 and problem in out, out


def test_a_slow_start_gets_its_attempts(http_stub: Callable[[Answer], str]) -> None:
    url = http_stub(lambda path, n: (503, "starting") if n <= 2 else (200, "ok"))
    code, out = run({"SMOKE_URL": url, "SMOKE_ATTEMPTS": "5"})
    assert code == 0 and "(try 3)" in out, out


def test_nothing_listening_fails_in_bounded_time() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    code, out = run({"SMOKE_URL": f"http://127.0.0.1:{port}", "SMOKE_ATTEMPTS": "2"})
    assert code == 1 and "no answer from 127.0.0.1" in out


@pytest.mark.parametrize(
    ("env", "words"),
    [
        ({}, "SMOKE_URL=''"),
        ({"SMOKE_URL": "https://x"}, "http://<host>"),
        ({"SMOKE_URL": "http://x/path"}, "no path"),
        ({"SMOKE_URL": "http://x", "SMOKE_ATTEMPTS": "0"}, "SMOKE_ATTEMPTS='0'"),
        ({"SMOKE_URL": "http://x", "SMOKE_TIMEOUT": "nan"}, "SMOKE_TIMEOUT='nan'"),
        ({"SMOKE_URL": "http://x", "SMOKE_STATUS": "2000"}, "from 100 to 599"),
        ({"SMOKE_URL": "http://x", "SMOKE_PATH": "/a\n"}, "absolute URL path"),
    ],
)
def test_unusable_settings_are_one_line_and_exit_2(env: dict[str, str], words: str) -> None:
    code, out = run(env)
    assert code == 2 and out.count("\n") == 1 and words in out, out


def test_it_runs_as_a_program(http_stub: Callable[[Answer], str]) -> None:
    url = http_stub(lambda path, _: (200, "ok"))
    result = subprocess.run(
        [sys.executable, str(SMOKE)],
        env={"SMOKE_URL": url, "SMOKE_INTERVAL": "0"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0 and result.stdout.startswith("smoke ok"), result

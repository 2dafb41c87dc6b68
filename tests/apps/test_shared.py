"""The shared code under apps/lib: the Node HEALTHCHECK script and imageview's color file."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests.apps.conftest import APPS, RunAppOnce, StartApp, _need_node


def _healthcheck(port: int | str) -> subprocess.CompletedProcess[str]:
    _need_node()
    return subprocess.run(
        ["node", str(APPS / "lib/node/healthcheck.js")],
        env={"PORT": str(port)},
        capture_output=True,
        text=True,
        timeout=10,
        check=False,
    )


def test_healthcheck_passes_against_a_live_app_and_fails_without_one(start_app: StartApp) -> None:
    app = start_app("kubia")
    assert _healthcheck(app.port).returncode == 0
    app.wait_for_line('"GET /healthz HTTP/1.1" 200 ')
    app.stop()
    assert _healthcheck(app.port).returncode == 1


def test_imageview_needs_its_color_file(run_app_once: RunAppOnce) -> None:
    proc = run_app_once("imageview-blue", "lib/imageview/app.js")
    assert proc.returncode == 2
    assert proc.stderr == "imageview: usage: node lib/imageview/app.js <color.json>\n"
    proc = run_app_once("imageview-blue", "lib/imageview/app.js", "imageview/red/color.json")
    assert proc.returncode == 2
    assert 'cannot read color file "imageview/red/color.json"' in proc.stderr


@pytest.mark.parametrize(
    "color",
    [
        {"name": "x", "background": "red;}body{display:none", "foreground": "#fff"},
        {"name": "<b>", "background": "#000", "foreground": "#fff"},
        {"name": "x", "background": "#000"},
        ["blue"],
    ],
)
def test_imageview_refuses_a_color_it_would_inject_into_the_page(
    run_app_once: RunAppOnce, tmp_path: Path, color: object
) -> None:
    bad = tmp_path / "color.json"
    bad.write_text(json.dumps(color))
    proc = run_app_once("imageview-blue", "lib/imageview/app.js", str(bad))
    assert proc.returncode == 2, proc.stdout
    assert proc.stderr.startswith(f'imageview: invalid color file "{bad}": allowed is ')
    assert proc.stdout == ""

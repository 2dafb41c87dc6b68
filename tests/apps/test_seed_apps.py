"""What each seed app answers and logs: S1 py-web-server, S2 node-app, S3 kubia, S4 imageview."""

from __future__ import annotations

import html
import re
import secrets
import socket

import pytest

from tests.apps.conftest import StartApp


def test_py_web_server_answers_its_hostname(start_app: StartApp) -> None:
    app = start_app("py-web-server")
    assert app.request("GET", "/")[2] == f"Hostname: {socket.gethostname()}\n".encode()


@pytest.mark.parametrize(
    ("env", "body"),
    [({}, b"Hello World\n"), ({"GREETING": "Welcome to Cloud"}, b"Welcome to Cloud\n")],
    ids=["v0.1-default", "v0.2-welcome"],
)
def test_node_app_greeting(start_app: StartApp, env: dict[str, str], body: bytes) -> None:
    app = start_app("node-app", **env)
    assert app.request("GET", "/")[2] == body
    app.wait_for_line(f"Server running at http://0.0.0.0:{app.port}/")


def test_kubia_answer_and_seed_log_lines(start_app: StartApp) -> None:
    app = start_app("kubia")
    assert app.request("GET", "/")[2] == f"you've hit {socket.gethostname()}\n".encode()
    assert app.lines[0] == "Kubia server starting..."
    app.wait_for_line('Received request from ::ffff:127.0.0.1 "GET / HTTP/1.1" 200 ')


@pytest.mark.parametrize("color", ["blue", "green"])
def test_imageview_shows_color_host_project_and_secret_id_never_the_key(
    start_app: StartApp, color: str
) -> None:
    key = secrets.token_hex(16)
    app = start_app(
        f"imageview-{color}", PROJECT_ID="hello-docker", SECRET_ID="asa", SECRET_KEY=key
    )
    status, headers, body = app.request("GET", "/")
    page = body.decode()
    assert status == 200
    assert headers["x-imageview-color"] == color
    assert f"<title>imageview: {color}</title>" in page
    assert f'<dd id="host">{socket.gethostname()}</dd>' in page
    assert '<dd id="project-id">hello-docker</dd>' in page
    assert '<dd id="secret-id">asa</dd>' in page
    assert '<dd id="secret-key">set (never shown)</dd>' in page
    assert "default-src 'none'" in headers["content-security-policy"]
    assert app.stop() == 0
    everything = page + repr(headers) + "\n".join(app.lines)
    assert key not in everything, f"imageview-{color} leaked SECRET_KEY"


def test_imageview_escapes_values_and_says_when_unset(start_app: StartApp) -> None:
    app = start_app("imageview-blue", SECRET_ID='<script>alert("x")</script>')
    page = app.request("GET", "/")[2].decode()
    assert "<script>" not in page
    assert html.escape('<script>alert("x")</script>', quote=True).replace("&#x27;", "&#39;") in page
    assert '<dd id="project-id"><em>not set</em></dd>' in page
    assert '<dd id="secret-key"><em>not set</em></dd>' in page


def background(page: str) -> str:
    """The page's background colour (``background:#rrggbb``)."""
    match = re.search(r"background:(#[0-9a-f]{6})", page)
    assert match, f"no background colour in {page!r}"
    return match.group(1)


def test_imageview_colors_are_visibly_different(start_app: StartApp) -> None:
    pages = {
        c: start_app(f"imageview-{c}").request("GET", "/")[2].decode() for c in ("blue", "green")
    }
    backgrounds = {c: background(page) for c, page in pages.items()}
    assert backgrounds["blue"] != backgrounds["green"]
    assert "<h1>blue</h1>" in pages["blue"]
    assert "<h1>green</h1>" in pages["green"]

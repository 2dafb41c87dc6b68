"""The build contexts in apps/ keep the contract the Pulumi program and Kubernetes rely on."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
APPS = ROOT / "apps"
CONTEXTS = {
    "py-web-server": ("python:3.12-slim-bookworm", 8888),
    "node-app": ("node:22-bookworm-slim", 8080),
    "kubia": ("node:22-bookworm-slim", 8080),
    "imageview/blue": ("node:22-bookworm-slim", 8080),
    "imageview/green": ("node:22-bookworm-slim", 8080),
}
NODE_CONTEXTS = [c for c, (base, _) in CONTEXTS.items() if base.startswith("node")]


def _instructions(context: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) of a Dockerfile, comments dropped, continuations joined."""
    text = (APPS / context / "Dockerfile").read_text()
    text = re.sub(r"\\\n", " ", text)
    out = []
    for line in text.splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            word, _, rest = line.strip().partition(" ")
            out.append((word.upper(), rest.strip()))
    return out


@pytest.mark.parametrize("context", CONTEXTS)
def test_dockerfile_contract(context):
    base, port = CONTEXTS[context]
    steps = _instructions(context)
    assert steps[0] == ("ARG", f"BASE_IMAGE={base}"), f"{context}: first step {steps[0]}"
    assert steps[1][0] == "FROM" and steps[1][1].startswith("${BASE_IMAGE}")
    froms = [arg for word, arg in steps if word == "FROM"]
    assert all(f.startswith("${BASE_IMAGE}") for f in froms), f"{context}: {froms}"
    final = steps[len(steps) - 1 - [w for w, _ in reversed(steps)].index("FROM") :]
    users = [arg for word, arg in final if word == "USER"]
    assert users == ["10001:10001"], f"{context}: final stage USER {users}"
    assert ("EXPOSE", str(port)) in final
    cmd = [arg for word, arg in final if word == "CMD"]
    assert len(cmd) == 1 and isinstance(json.loads(cmd[0]), list), f"{context}: CMD not exec form"
    assert any(word == "HEALTHCHECK" for word, _ in final)
    assert not any(word in ("ADD", "ENTRYPOINT") for word, _ in steps)


@pytest.mark.parametrize("context", CONTEXTS)
def test_dockerignore_allows_only_what_is_copied(context):
    ignore = (APPS / context / ".dockerignore").read_text().split()
    lines = [x for x in ignore if not x.startswith("#")]
    assert "*" in lines, f"{context}: .dockerignore should start from deny-all"
    allowed = {x[1:] for x in lines if x.startswith("!")}
    copied: set[str] = set()
    for word, arg in _instructions(context):
        if word == "COPY" and not arg.startswith("--from"):
            copied.update(arg.split()[:-1])
    assert allowed == copied, f"{context}: allowed {allowed} but COPY uses {copied}"


def test_python_image_writes_nothing_at_run_time():
    env = " ".join(arg for word, arg in _instructions("py-web-server") if word == "ENV")
    assert "PYTHONDONTWRITEBYTECODE=1" in env


def test_tornado_pin_is_the_same_for_the_image_and_the_tests():
    app = re.search(r"^tornado==(\S+)", (APPS / "py-web-server/requirements.txt").read_text(), re.M)
    dev = re.search(r"^tornado==(\S+)", (ROOT / "requirements-dev.txt").read_text(), re.M)
    assert app and dev and app.group(1) == dev.group(1)
    assert "--hash=sha256:" in (APPS / "py-web-server/requirements.txt").read_text()


def test_vendored_lifecycle_copies_are_identical():
    copies = {c: (APPS / c / "lifecycle.js").read_bytes() for c in NODE_CONTEXTS}
    assert len(set(copies.values())) == 1, "lifecycle.js copies differ: copy the edited one over"


def test_imageview_colors_differ_only_in_color_json():
    for name in ("app.js", "lifecycle.js"):
        blue, green = ((APPS / f"imageview/{c}" / name).read_bytes() for c in ("blue", "green"))
        assert blue == green, f"imageview {name} differs between the colors"
    for name in ("package.json", "Dockerfile", ".dockerignore"):
        blue = (APPS / "imageview/blue" / name).read_text().replace("blue", "COLOR")
        green = (APPS / "imageview/green" / name).read_text().replace("green", "COLOR")
        assert blue == green, f"imageview {name} differs between colors beyond the color name"
    colors = [
        json.loads((APPS / f"imageview/{c}/color.json").read_text()) for c in ("blue", "green")
    ]
    assert [c["name"] for c in colors] == ["blue", "green"]
    assert colors[0]["background"] != colors[1]["background"]


@pytest.mark.parametrize("context", NODE_CONTEXTS)
def test_node_apps_need_no_packages(context):
    package = json.loads((APPS / context / "package.json").read_text())
    assert package["dependencies"] == {}
    assert package["private"] is True

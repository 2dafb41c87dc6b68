"""infra/build_context.py: the allow-list, content hashes and staged contexts of app images."""

from __future__ import annotations

import shutil
from pathlib import Path

from infra.build_context import build_inputs, source_hash, stage
from infra.paths import APPS, ROOT


def _apps_copy(tmp_path: Path) -> Path:
    apps = tmp_path / "apps"
    shutil.copytree(ROOT / "apps", apps)
    return apps


def _edit(path: Path) -> None:
    path.write_text(path.read_text() + "\n// edit\n")


def test_source_hash_follows_content(tmp_path: Path) -> None:
    apps = _apps_copy(tmp_path)
    src = apps / "kubia"
    first = source_hash(src, apps)
    assert first == source_hash(src, apps)
    (src / "__pycache__").mkdir()
    (src / "__pycache__" / "x.pyc").write_bytes(b"cache")
    assert source_hash(src, apps) == first, "caches are not part of the image identity"
    _edit(src / "app.js")
    assert source_hash(src, apps) != first


def test_build_inputs_are_the_folder_and_the_shared_code_it_admits() -> None:
    apps = ROOT / "apps"
    inputs = {p.relative_to(apps).as_posix() for p in build_inputs(apps / "imageview" / "blue")}
    assert inputs == {
        "imageview/blue",
        "lib/node/lifecycle.js",
        "lib/node/healthcheck.js",
        "lib/imageview/app.js",
        "lib/imageview/package.json",
    }
    assert [p.relative_to(apps).as_posix() for p in build_inputs(apps / "py-web-server")] == [
        "py-web-server"
    ]


def test_editing_one_color_never_retags_the_other(tmp_path: Path) -> None:
    apps = _apps_copy(tmp_path)
    blue, green, kubia = apps / "imageview/blue", apps / "imageview/green", apps / "kubia"
    before = {s: source_hash(s, apps) for s in (blue, green, kubia)}
    color = green / "color.json"
    color.write_text(color.read_text().replace("#15803d", "#166534"))
    (green / "notes.txt").write_text("a file the allow-list does not admit\n")
    assert source_hash(green, apps) != before[green]
    assert source_hash(blue, apps) == before[blue], "editing green retagged blue"
    assert source_hash(kubia, apps) == before[kubia]


def test_shared_code_retags_exactly_the_apps_that_use_it(tmp_path: Path) -> None:
    apps = _apps_copy(tmp_path)
    sources = [apps / s for s in ("imageview/blue", "imageview/green", "kubia", "py-web-server")]
    first = {s: source_hash(s, apps) for s in sources}
    _edit(apps / "lib/imageview/app.js")
    second = {s: source_hash(s, apps) for s in sources}
    changed = sorted(s.relative_to(apps).as_posix() for s in sources if second[s] != first[s])
    assert changed == ["imageview/blue", "imageview/green"]
    _edit(apps / "lib/node/lifecycle.js")
    third = {s: source_hash(s, apps) for s in sources}
    changed = sorted(s.relative_to(apps).as_posix() for s in sources if third[s] != second[s])
    assert changed == ["imageview/blue", "imageview/green", "kubia"]


def _tree(folder: Path) -> list[str]:
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())


def test_staged_context_holds_exactly_the_allow_list(tmp_path: Path) -> None:
    """What pulumi-docker tars and hashes for an image: its own files and the shared code its
    allow-list names, nothing of another app or color (so editing green never rebuilds blue)."""
    apps = tmp_path / "apps"
    shutil.copytree(APPS, apps, ignore=shutil.ignore_patterns("node_modules", "__pycache__"))
    staged = {c: stage(apps / "imageview" / c, apps, tmp_path / "stage") for c in ("blue", "green")}
    for color, folder in staged.items():
        expected = sorted(
            f.relative_to(apps).as_posix()
            for top in build_inputs(apps / "imageview" / color, apps)
            for f in ([top] if top.is_file() else top.rglob("*"))
            if f.is_file()
        )
        assert _tree(folder) == expected
        assert not [p for p in _tree(folder) if p.startswith(("kubia/", "node-app/"))]
        other = "green" if color == "blue" else "blue"
        assert not [p for p in _tree(folder) if p.startswith(f"imageview/{other}/")]
    before = _tree(staged["blue"])
    (apps / "imageview/green/color.json").write_text('{"edited": true}')
    (apps / "kubia/app.js").write_text("// edited\n")
    again = stage(apps / "imageview" / "blue", apps, tmp_path / "stage")
    assert _tree(again) == before
    assert (again / "imageview/blue/color.json").read_bytes() == (
        apps / "imageview/blue/color.json"
    ).read_bytes()

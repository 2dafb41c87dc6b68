"""Every shell script of the repository passes shellcheck (Debian's, installed by
scripts/install.d/30-delivery.sh), at its default severity, following ``source`` from the
repository root. A file that is sourced rather than run has no shebang, so it names its shell
with a ``# shellcheck shell=bash`` directive on its first line. ``make lint`` runs the same check.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.delivery.renders import ROOT
from tests.prerequisites import unavailable

#: Folders that hold no script of this project (venvs, dependencies, git's own files).
SKIP = {".git", ".venv", ".venv-tools", ".venv-oldest", "node_modules", "out", "__pycache__"}
_SHEBANG = re.compile(r"^#!\s*(?:/usr/bin/env\s+)?(?:/bin/|/usr/bin/)?(?:ba|da)?sh\b")
_DIRECTIVE = re.compile(r"^# shellcheck shell=(?:bash|sh)\b")


def shell_scripts(root: Path = ROOT) -> list[Path]:
    """Every ``*.sh`` file, and every file whose first line is a sh/bash shebang."""
    found = []
    # The repository's own files: tracked, or new and not ignored (never .tools/ or a venv).
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=root,
        capture_output=True,
        check=True,
    ).stdout.decode()
    for name in sorted(filter(None, listed.split("\0"))):
        path = root / name
        relative = path.relative_to(root)
        if SKIP & set(relative.parts) or not path.is_file() or path.is_symlink():
            continue
        if path.suffix == ".sh":
            found.append(path)
            continue
        if path.suffix in {"", ".bash"}:
            with path.open("rb") as handle:
                first = handle.readline(200).decode("utf-8", "replace")
            if _SHEBANG.match(first):
                found.append(path)
    return found


def directive_problems(path: Path, where: str) -> list[str]:
    """A script without a shebang must say its shell on its first line."""
    lines = path.read_text().splitlines()
    first = lines[0] if lines else ""
    if _SHEBANG.match(first) or _DIRECTIVE.match(first):
        return []
    return [f"{where}: no shebang: start it with '# shellcheck shell=bash' (it is sourced)"]


def shellcheck(cwd: Path, *files: str) -> subprocess.CompletedProcess[str]:
    executable = shutil.which("shellcheck")
    if executable is None:
        unavailable("shellcheck is missing: run scripts/install.sh")
    return subprocess.run(
        [executable, "-x", "--color=never", *files],
        check=False,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_scripts_are_all_found() -> None:
    names = {str(p.relative_to(ROOT)) for p in shell_scripts()}
    expected = {
        ".ci/run",
        "scripts/install.sh",
        "scripts/lib.sh",
        "scripts/lock.sh",
        "scripts/test-all.sh",
        "scripts/delivery/live-color-guard.sh",
        "scripts/delivery/require-cloud.sh",
        "scripts/install.d/30-delivery.sh",
    }
    assert expected <= names, expected - names
    # `make lint` checks the same set.
    makefile = (ROOT / "Makefile").read_text()
    assert "SHELL_SCRIPTS := .ci/run $(shell find scripts -name '*.sh'" in makefile
    assert not [n for n in names if n != ".ci/run" and not n.startswith("scripts/")], names


def test_every_sourced_file_names_its_shell() -> None:
    problems = [
        p for path in shell_scripts() for p in directive_problems(path, str(path.relative_to(ROOT)))
    ]
    assert not problems, "\n".join(problems)


def test_every_shell_script_passes_shellcheck() -> None:
    files = [str(p.relative_to(ROOT)) for p in shell_scripts()]
    proc = shellcheck(ROOT, *files)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("# Shared helpers.\nhelper() { :; }\n", True),
        ("# shellcheck shell=bash\n# Shared helpers.\nhelper() { :; }\n", False),
        ("#!/usr/bin/env bash\nset -eu\n", False),
    ],
)
def test_a_sourced_file_without_a_directive_is_refused(
    tmp_path: Path, text: str, problem: bool
) -> None:
    path = tmp_path / "lib.sh"
    path.write_text(text)
    assert bool(directive_problems(path, "lib.sh")) is problem


def test_shellcheck_fails_on_a_broken_script(tmp_path: Path) -> None:
    # A folder variable unquoted in `rm -rf`: an empty or spaced value deletes something else.
    source = (ROOT / "scripts" / "images" / "docker-build.sh").read_text()
    (tmp_path / "broken.sh").write_text(source + "\nscratch=$(mktemp -d)\nrm -rf $scratch/*\n")
    proc = shellcheck(tmp_path, "broken.sh")
    assert proc.returncode != 0, proc.stdout
    assert "broken.sh" in proc.stdout

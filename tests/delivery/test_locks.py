"""The Python locks: one hash-pinned lock per venv, each up to date with its ranges (the ``.in``
files), every install made from a lock with ``--require-hashes``, and the program's venv and the
test venv on the same versions. The rules are in ``tests/delivery/locks.py``; each is shown to
fail on a broken copy of a real lock."""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from tests.delivery.locks import (
    LOCKS,
    compiled_with_python,
    lock_path,
    lock_problems,
    parse_lock,
    source_path,
)
from tests.delivery.renders import ROOT
from tests.delivery.workflows import load, run_scripts, steps, workflow_files

INSTALLERS = [
    ROOT / "scripts" / "install.sh",
    *sorted((ROOT / "scripts" / "install.d").glob("*.sh")),
    ROOT / "Makefile",
]


@pytest.mark.parametrize("lock", sorted(LOCKS))
def test_lock_is_up_to_date_with_its_ranges(lock: str) -> None:
    problems = lock_problems(source_path(lock), lock_path(lock))
    assert not problems, "\n".join([*problems, "run `make lock` and commit the locks"])


def test_the_program_venv_and_the_test_venv_pin_the_same_versions() -> None:
    runtime = parse_lock(lock_path("requirements.txt").read_text())
    dev = parse_lock(lock_path("requirements-dev.txt").read_text())
    missing = sorted(set(runtime) - set(dev))
    assert not missing, f"requirements-dev.txt lacks runtime pins {missing}"
    differ = [n for n, pin in runtime.items() if dev[n].version != pin.version]
    assert not differ, f"requirements-dev.txt pins other versions of {differ}"


def test_locks_are_for_the_python_ci_runs() -> None:
    versions = {
        str(step["with"]["python-version"])
        for path in workflow_files()
        for _, step in steps(load(path))
        if str(step.get("uses", "")).startswith("actions/setup-python@")
    }
    assert len(versions) == 1, f"workflows set up several Pythons: {versions}"
    for lock in LOCKS:
        assert compiled_with_python(lock_path(lock)) in versions, f"{lock} is not for {versions}"


def pip_installs(text: str) -> list[str]:
    joined = re.sub(r"\\\n\s*", " ", text)
    return [ln.strip() for ln in joined.splitlines() if re.search(r"\bpip\"?\s+install\b", ln)]


def test_every_install_is_from_a_lock_with_require_hashes() -> None:
    sources = [(str(p.relative_to(ROOT)), p.read_text()) for p in INSTALLERS]
    sources += list(run_scripts())
    installs = [(where, line) for where, text in sources for line in pip_installs(text)]
    assert installs, "found no pip install at all: update this test"
    for where, line in installs:
        assert "--require-hashes" in line and re.search(r"\s-r\s", line), f"{where}: {line}"
        assert ".in" not in line.split(), f"{where} installs from ranges: {line}"
    every_installer = "\n".join(text for _, text in sources)
    for lock in LOCKS:
        assert re.search(rf"(?<![\w/-]){re.escape(lock)}\b", every_installer), (
            f"nothing installs {lock}"
        )


def test_pulumi_install_reads_the_runtime_lock() -> None:
    # Pulumi.yaml's `toolchain: pip` installs requirements.txt beside it (`pulumi install`), and
    # PulumiPolicy.yaml's installs policy/requirements.txt: both are locks with hashes, so pip
    # runs in hash-checking mode there too.
    for lock in ("requirements.txt", "policy/requirements.txt"):
        pins = parse_lock(lock_path(lock).read_text())
        assert pins and all(p.hashes for p in pins.values()), lock
    for project in (ROOT / "Pulumi.yaml", ROOT / "policy" / "PulumiPolicy.yaml"):
        runtime = yaml.safe_load(project.read_text())["runtime"]
        assert runtime["options"]["toolchain"] == "pip", project.name


# A broken copy of a real lock or its ranges must be reported, with the reason.
Breakage = Callable[[Path], None]


def _edit(name: str, old: str, new: str, count: int = 1) -> Breakage:
    def apply(root: Path) -> None:
        path = root / name
        text = path.read_text()
        assert old in text, f"{name} no longer contains {old!r}: update this test"
        path.write_text(text.replace(old, new, count))

    return apply


def _rewrite_entry(name: str, project: str, change: Callable[[list[str]], list[str]]) -> Breakage:
    """Replaces the lines of ``project``'s entry in the lock ``name`` by ``change(lines)``."""

    def apply(root: Path) -> None:
        path = root / name
        lines = path.read_text().splitlines()
        start = next(i for i, ln in enumerate(lines) if ln.startswith(f"{project}=="))
        end = start + 1
        while end < len(lines) and lines[end].startswith(" "):
            end += 1
        lines[start:end] = change(lines[start:end])
        path.write_text("\n".join(lines) + "\n")

    return apply


def _without_hashes(entry: list[str]) -> list[str]:
    return [entry[0].removesuffix(" \\")] + [ln for ln in entry[1:] if "--hash" not in ln]


BREAKAGES: list[tuple[str, str, Breakage, str]] = [
    # (id, the lock checked, how it is broken, what the check must say)
    (
        "new requirement not locked",
        "requirements.txt",
        _edit("requirements.in", "PyYAML>=6,<7", "PyYAML>=6,<7\nrich>=13"),
        "requirements.in asks for rich>=13; requirements.txt does not pin rich",
    ),
    (
        "range no longer met",
        "requirements.txt",
        _edit("requirements.in", "pulumi>=3.231,<4", "pulumi>=3.900,<4"),
        "requirements.in asks for pulumi<4,>=3.900; requirements.txt pins pulumi==",
    ),
    (
        "requirement removed",
        "requirements.txt",
        _edit("requirements.in", "PyYAML>=6,<7\n", ""),
        "pyyaml is locked via -r requirements.in, which no longer asks for it",
    ),
    (
        "entry without hashes",
        "requirements-tools.txt",
        _rewrite_entry("requirements-tools.txt", "checkov", _without_hashes),
        "has no --hash",
    ),
    (
        "range instead of a pin",
        "policy/requirements.txt",
        _edit("policy/requirements.txt", "pulumi-policy==", "pulumi-policy>="),
        "is not one exact == pin",
    ),
    (
        "left-over dependency",
        "requirements.txt",
        _rewrite_entry("requirements.txt", "requests", lambda entry: []),
        "is locked for requests, which is not locked",
    ),
    (
        "test venv on another version than the program",
        "requirements-dev.txt",
        _edit("requirements.txt", "protobuf==6.", "protobuf==7."),
        "differs from the constraint requirements.txt: protobuf==7.",
    ),
    (
        "hand-written lock",
        "requirements.txt",
        _edit("requirements.txt", "--generate-hashes ", ""),
        "header does not record 'pip-compile ... --generate-hashes'",
    ),
]


@pytest.mark.parametrize(
    ("lock", "breakage", "expected"),
    [b[1:] for b in BREAKAGES],
    ids=[b[0] for b in BREAKAGES],
)
def test_the_lock_check_fails_on_a_broken_lock(
    tmp_path: Path, lock: str, breakage: Breakage, expected: str
) -> None:
    for name in {*LOCKS, *LOCKS.values()}:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOT / name, tmp_path / name)
    assert not lock_problems(tmp_path / LOCKS[lock], tmp_path / lock)
    breakage(tmp_path)
    problems = lock_problems(tmp_path / LOCKS[lock], tmp_path / lock)
    assert any(expected in p for p in problems), problems

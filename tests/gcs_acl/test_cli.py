"""infra/gcs_acl/cli.py: ``python -m infra.gcs_acl`` as an operator runs it (a real process)
against the emulator, and its help."""

from __future__ import annotations

import argparse
import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import google.cloud.storage as storage
import pytest

from infra.gcs_acl import cli as cli_mod
from infra.gcs_acl.settings import LIMITS
from tests.gcs_acl.conftest import FaultProxyFactory, Hold, Objects

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.emulator


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "infra.gcs_acl", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_grant_then_second_run_changes_nothing_and_says_so(bucket: str, objects: Objects) -> None:
    objects.seed(bucket, ["a", "b", "c"])
    first = cli("grant", "--bucket", bucket, "--progress-interval", "0")
    assert first.returncode == 0, first.stderr
    assert first.stdout.startswith(
        f"grant allUsers:READER on gs://{bucket}/*: scanned 3, changed 3, already public 0, "
        "failed 0 (1 pages, "
    )
    assert first.stderr.startswith(f"... grant gs://{bucket}/*: scanned 3 (1 pages)")
    second = cli("grant", "--bucket", f"gs://{bucket}", "--entity", "AllUsers", "--role", "R")
    assert second.returncode == 0
    assert "changed 0, already public 3" in second.stdout
    assert second.stdout.strip().endswith("nothing to change, already up to date")


def test_check_lists_everything_that_is_not_public(
    bucket: str, objects: Objects, gcs: storage.Client
) -> None:
    objects.seed(bucket, ["v1/a", "v1/b"])
    cli("grant", "--bucket", bucket)
    objects.set_acl(bucket, "v1/b", [])
    out = cli("check", "--bucket", bucket)
    assert out.returncode == 1
    lines = out.stdout.splitlines()
    assert lines[0].startswith("NOT PUBLIC  bucket ACL: allUsers lacks READER")
    assert lines[1].startswith("NOT PUBLIC  default object ACL: allUsers lacks READER")
    assert lines[2] == (
        f"NOT PUBLIC  objects: 1 of 2 objects under gs://{bucket}/* hold allUsers:READER; "
        "1 lack it: v1/b"
    )
    assert lines[3] == f"check allUsers:READER on gs://{bucket}/*: NOT public"

    # What S1's three gsutil commands leave behind: bucket ACL, default ACL, every object.
    b = gcs.get_bucket(bucket)
    b.acl.all().grant_read()
    b.acl.save()
    b.default_object_acl.all().grant_read()
    b.default_object_acl.save()
    assert cli("grant", "--bucket", bucket).returncode == 0
    ok = cli("check", "--bucket", bucket)
    assert ok.returncode == 0, ok.stdout
    assert [line.split()[0] for line in ok.stdout.splitlines()[:3]] == ["OK"] * 3
    assert ok.stdout.splitlines()[-1].endswith(": public")


def test_check_under_uniform_access_looks_at_the_iam_binding(
    bucket: str, gcs: storage.Client
) -> None:
    b = gcs.get_bucket(bucket)
    b.iam_configuration.uniform_bucket_level_access_enabled = True
    b.patch()
    missing = cli("check", "--bucket", bucket)
    assert missing.returncode == 1
    assert missing.stdout.startswith(
        "NOT PUBLIC  IAM binding: allUsers lacks roles/storage.objectViewer"
    )
    policy = b.get_iam_policy()
    policy["roles/storage.objectViewer"] = {"allUsers"}
    b.set_iam_policy(policy)
    bound = cli("check", "--bucket", bucket)
    assert bound.returncode == 0, bound.stdout
    assert bound.stdout.startswith(
        "OK          IAM binding: allUsers has roles/storage.objectViewer"
    )

    refused = cli("grant", "--bucket", bucket)
    assert refused.returncode == 1
    assert refused.stderr.startswith(f"error: gs://{bucket} has uniform bucket-level access on")
    assert len(refused.stderr.splitlines()) == 1


def test_revoke(bucket: str, objects: Objects) -> None:
    objects.seed(bucket, ["a", "b"])
    cli("grant", "--bucket", bucket)
    out = cli("revoke", "--bucket", bucket, "--prefix", "a")
    assert out.returncode == 0
    assert "revoke allUsers:READER on gs://" in out.stdout and "changed 1" in out.stdout
    assert objects.public(bucket) == {"b"}


@pytest.mark.parametrize(
    ("args", "code", "first_words"),
    [
        (("grant", "--bucket", "no-such-bucket-x"), 1, "error: bucket gs://no-such-bucket-x"),
        (("grant", "--bucket", "ok-bucket", "--role", "WRITER"), 2, "error: invalid role"),
        (("check", "--bucket", "B"), 2, "error: invalid bucket name"),
        (("revoke", "--bucket", "ok-bucket", "--entity", "someone"), 2, "error: invalid entity"),
        (("grant", "--bucket", "ok-bucket", "--workers", "0"), 2, "error: --workers '0' is not"),
        (("grant",), 2, "error: the following arguments are required: --bucket"),
        (
            ("nudge", "--bucket", "ok-bucket"),
            2,
            "error: argument {grant,revoke,check}: invalid choice",
        ),
        (("grant", "--bucket", "ok-bucket", "--wrkers", "3"), 2, "error: unrecognized arguments"),
    ],
)
def test_errors_are_one_line_with_exit_code(
    args: tuple[str, ...], code: int, first_words: str
) -> None:
    out = cli(*args)
    assert out.returncode == code
    assert out.stderr.startswith(first_words)
    assert len(out.stderr.strip().splitlines()) == 1
    assert out.stdout == ""


@pytest.mark.parametrize(
    ("flag", "value", "allowed"),
    [
        ("--retry-deadline", "nan", "a finite number of seconds > 0 and <= 3600"),
        ("--retry-deadline", "inf", "a finite number of seconds > 0 and <= 3600"),
        ("--retry-deadline", "-1", "a finite number of seconds > 0 and <= 3600"),
        ("--retry-deadline", "0", "a finite number of seconds > 0 and <= 3600"),
        ("--retry-deadline", "1e3", "a finite number of seconds > 0 and <= 3600"),
        ("--retry-deadline", "99999", "a finite number of seconds > 0 and <= 3600"),
        ("--progress-interval", "nan", "a finite number of seconds from 0 to 3600"),
        ("--progress-interval", "-0.5", "a finite number of seconds from 0 to 3600"),
        ("--progress-interval", "Infinity", "a finite number of seconds from 0 to 3600"),
        ("--workers", "nan", "a whole number from 1 to 256"),
        ("--workers", "-4", "a whole number from 1 to 256"),
        ("--workers", "16.0", "a whole number from 1 to 256"),
        ("--workers", " 16", "a whole number from 1 to 256"),
        ("--workers", "0x10", "a whole number from 1 to 256"),
        ("--workers", "1000", "a whole number from 1 to 256"),
    ],
)
def test_every_numeric_flag_needs_a_finite_value_in_its_range(
    fault_proxy: FaultProxyFactory, flag: str, value: str, allowed: str
) -> None:
    proxy = fault_proxy(lambda *_: None)
    out = cli("grant", "--bucket", "ok-bucket", f"{flag}={value}")
    assert out.returncode == 2
    assert out.stderr == f"error: {flag} {value!r} is not valid: expected {allowed}\n"
    assert proxy.requests == 0  # refused before any request


def test_numeric_flags_in_range_are_accepted(bucket: str, objects: Objects) -> None:
    objects.seed(bucket, ["a"])
    args = ("--workers", "1", "--retry-deadline", "0.5", "--progress-interval", "0")
    assert cli("grant", "--bucket", bucket, *args).returncode == 0


@pytest.mark.parametrize("name", ["a..b", "192.168.5.4", "goog-registry", "bucket\n"])
def test_bucket_names_gcs_would_refuse_are_never_sent(
    fault_proxy: FaultProxyFactory, name: str
) -> None:
    proxy = fault_proxy(lambda *_: None)
    out = cli("check", "--bucket", name)
    assert out.returncode == 2
    assert out.stderr.startswith(f"error: invalid bucket name {name!r}: ")
    assert "cloud.google.com/storage/docs/buckets#naming" in out.stderr
    assert len(out.stderr.splitlines()) == 1 and proxy.requests == 0


@pytest.mark.parametrize(
    ("flag", "value"),
    [
        ("--entity", "user-ops@example.com\n"),
        ("--entity", "allUsers\n"),
        ("--role", "READER\n"),
        ("--prefix", "a/\n"),
        ("--project", "my-proj\n"),
    ],
)
def test_a_trailing_newline_is_refused_and_nothing_is_written(
    bucket: str, objects: Objects, flag: str, value: str
) -> None:
    objects.seed(bucket, ["a", "b"])
    out = cli("grant", "--bucket", bucket, flag, value)
    assert out.returncode == 2, out.stdout
    assert out.stderr.startswith("error: invalid ") and len(out.stderr.splitlines()) == 1
    assert objects.acl(bucket, "a") == objects.acl(bucket, "b") == []


@pytest.mark.parametrize("prefix", ["layers*", "layers/sha256:*", "nothing/"])
def test_a_prefix_that_matches_nothing_says_so_and_exits_1(
    bucket: str, objects: Objects, prefix: str
) -> None:
    objects.seed(bucket, ["layers/a"])
    for command in ("grant", "revoke", "check"):
        out = cli(command, "--bucket", bucket, "--prefix", prefix)
        assert out.returncode == 1, (command, out.stdout)
        assert f"nothing matched: no object name in gs://{bucket} starts with {prefix!r}" in (
            out.stdout
        )
        assert "prefixes are literal, not globs" in out.stdout
        assert "up to date" not in out.stdout
    assert objects.public(bucket) == set()


def test_one_meaning_of_role_in_grant_revoke_and_check(bucket: str, objects: Objects) -> None:
    objects.seed(bucket, ["a"])
    who = ("--entity", "user-ops@example.com")
    assert cli("grant", "--bucket", bucket, *who, "--role", "OWNER").returncode == 0
    # An OWNER can read: check READER agrees, and revoke READER removes the entry.
    held = cli("check", "--bucket", bucket, *who, "--role", "READER")
    assert "1 of 1 objects under" in held.stdout
    revoked = cli("revoke", "--bucket", bucket, *who, "--role", "READER")
    assert revoked.returncode == 0 and "changed 1" in revoked.stdout, revoked.stdout
    lacking = cli("check", "--bucket", bucket, *who, "--role", "READER")
    assert "0 of 1 objects under" in lacking.stdout and lacking.returncode == 1
    assert objects.acl(bucket, "a") == []


def test_ctrl_c_exits_130_with_partial_progress(bucket: str, objects: Objects) -> None:
    objects.seed(bucket, [f"o{i:04d}" for i in range(2500)])
    args = ["grant", "--bucket", bucket, "--progress-interval", "0"]
    proc = subprocess.Popen(
        [sys.executable, "-m", "infra.gcs_acl", *args],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stderr is not None
    first = proc.stderr.readline()  # printed once the first page is underway
    proc.send_signal(signal.SIGINT)  # what Ctrl-C sends
    rest = proc.stderr.read()
    proc.stderr.close()
    assert proc.wait(timeout=60) == 130
    assert first.startswith(f"... grant gs://{bucket}/*: scanned 1000 (1 pages)")
    assert f"error: interrupted during grant on gs://{bucket}/*" in rest
    assert "partial progress: grant allUsers:READER" in rest and "INCOMPLETE" in rest
    assert len(objects.public(bucket)) < 2500


# ----------------------------------------------------------------------------- Ctrl-C anywhere


class Cli:
    """The CLI as a running process whose stderr lines are collected as they come."""

    def __init__(
        self, *args: str, python_flags: tuple[str, ...] = (), env: dict[str, str] | None = None
    ) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, *python_flags, "-m", "infra.gcs_acl", *args],
            cwd=ROOT,
            env={**os.environ, **(env or {})},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.lines: list[str] = []
        assert self.proc.stderr is not None
        stderr = self.proc.stderr
        self.pump = threading.Thread(
            target=lambda: self.lines.extend(line.rstrip("\n") for line in stderr), daemon=True
        )
        self.pump.start()

    def wait_for(self, needle: str, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while not any(needle in line for line in list(self.lines)):
            assert self.proc.poll() is None, f"exited early: {self.lines}"
            assert time.monotonic() < deadline, f"no {needle!r} in {self.lines}"
            time.sleep(0.01)

    def ctrl_c(self) -> None:
        self.proc.send_signal(signal.SIGINT)  # what Ctrl-C sends

    def finish(self, timeout: float = 30) -> tuple[int, str, list[str]]:
        assert self.proc.stdout is not None
        code = self.proc.wait(timeout=timeout)
        out = self.proc.stdout.read()
        self.proc.stdout.close()
        self.pump.join(timeout=5)
        assert self.proc.stderr is not None
        self.proc.stderr.close()
        return code, out, [line for line in self.lines if not line.startswith("import time:")]


def _no_traceback(lines: list[str]) -> None:
    text = "\n".join(lines)
    assert "Traceback" not in text and "KeyboardInterrupt" not in text, text


def test_ctrl_c_during_imports(bucket: str, tmp_path: Path) -> None:
    # A first run after an install: no compiled bytecode yet (an empty PYTHONPYCACHEPREFIX), so
    # the imports take a few hundred milliseconds. -X importtime reports each import on stderr
    # (unbuffered with -u) as it completes: the signal is sent once google.auth is in, while
    # google-cloud-storage, which infra.gcs_acl.client imports after it, is not yet.
    run = Cli(
        "grant",
        "--bucket",
        bucket,
        python_flags=("-u", "-X", "importtime"),
        env={"PYTHONPYCACHEPREFIX": str(tmp_path / "pycache")},
    )
    run.wait_for("google.auth")
    run.ctrl_c()
    code, out, lines = run.finish()
    storage_imported = [line for line in run.lines if line.endswith(" google.cloud.storage")]
    assert not storage_imported, "the signal came after the imports"
    _no_traceback(lines)
    assert code == 130
    assert lines == ["error: interrupted while starting; nothing changed"]
    assert out == ""


def _ctrl_c_while_held(fault_proxy: FaultProxyFactory, hold: Hold, *args: str) -> list[str]:
    """Runs the CLI with ``args`` while the backend holds the requests ``hold`` picks, presses
    Ctrl-C once one is held, and returns its stderr lines (exit 130, no traceback, no stdout)."""
    proxy = fault_proxy(lambda *_: None, hold=hold)
    run = Cli(*args)
    proxy.wait_held()
    run.ctrl_c()
    code, out, lines = run.finish()
    proxy.release()
    _no_traceback(lines)
    assert (code, out) == (130, ""), lines
    return lines


def _bucket_read(_method: str, path: str) -> bool:
    return "/o" not in path.split("?", maxsplit=1)[0]


def _listing(_method: str, path: str) -> bool:
    return "/o?" in path


def test_ctrl_c_while_reading_the_bucket(
    bucket: str, objects: Objects, fault_proxy: FaultProxyFactory
) -> None:
    objects.seed(bucket, ["a"])
    lines = _ctrl_c_while_held(fault_proxy, _bucket_read, "grant", "--bucket", bucket)
    assert (
        lines[0] == f"error: interrupted before grant started on gs://{bucket}/*; nothing changed"
    )
    assert lines[1].startswith(f"partial progress: grant allUsers:READER on gs://{bucket}/*: ")
    assert "INCOMPLETE" in lines[1] and len(lines) == 2
    assert objects.public(bucket) == set()


def test_ctrl_c_during_check(bucket: str, objects: Objects, fault_proxy: FaultProxyFactory) -> None:
    objects.seed(bucket, ["a"])
    lines = _ctrl_c_while_held(fault_proxy, _listing, "check", "--bucket", bucket)
    assert lines == [
        f"error: interrupted during check on gs://{bucket}/*; nothing changed",
        f"partial progress: check allUsers:READER on gs://{bucket}/*: scanned 0 (0 pages), "
        "holding 0, lacking 0 - INCOMPLETE, nothing changed",
    ]


def test_second_ctrl_c_while_draining_stops_waiting(
    bucket: str, objects: Objects, fault_proxy: FaultProxyFactory
) -> None:
    objects.seed(bucket, [f"o{i:02d}" for i in range(40)])
    # Every PATCH hangs: the backend has stopped answering.
    proxy = fault_proxy(lambda *_: None, hold=lambda method, path: method == "PATCH")
    run = Cli("grant", "--bucket", bucket)
    proxy.wait_held()
    run.ctrl_c()
    run.wait_for("interrupted: letting ")
    started = time.monotonic()
    run.ctrl_c()
    code, out, lines = run.finish()
    waited = time.monotonic() - started
    proxy.release()
    _no_traceback(lines)
    assert code == 130, lines
    held = re.fullmatch(
        r"interrupted: letting (\d+) requests? in flight finish \(Ctrl-C again to stop waiting\)",
        lines[0],
    )
    assert held is not None and int(held.group(1)) == proxy.held, lines
    assert lines[1].startswith(
        f"error: interrupted again during grant on gs://{bucket}/*: stopped waiting for "
        f"{proxy.held} requests in flight"
    )
    assert lines[2].startswith("partial progress: grant allUsers:READER on ")
    assert "changed 0" in lines[2] and "left undone " in lines[2] and "INCOMPLETE" in lines[2]
    assert len(lines) == 3 and out == ""
    assert waited < 20, "it kept waiting for the held request"


def test_more_ctrl_c_while_draining_never_shows_a_traceback(
    bucket: str, objects: Objects, fault_proxy: FaultProxyFactory
) -> None:
    objects.seed(bucket, [f"o{i:02d}" for i in range(40)])
    proxy = fault_proxy(lambda *_: None, hold=lambda method, path: method == "PATCH")
    run = Cli("grant", "--bucket", bucket)
    proxy.wait_held()
    for _ in range(6):
        run.ctrl_c()
        time.sleep(0.05)
    code, _out, lines = run.finish()
    proxy.release()
    _no_traceback(lines)
    assert code == 130
    assert sum(line.startswith("partial progress: ") for line in lines) == 1


# ----------------------------------------------------------------------------- help


def _subcommands() -> argparse._SubParsersAction[argparse.ArgumentParser]:
    (sub,) = [a for a in cli_mod.parser()._actions if isinstance(a, argparse._SubParsersAction)]
    return sub


def test_help_describes_the_tool_and_gives_the_common_sequence() -> None:
    out = cli("--help")
    assert out.returncode == 0 and out.stderr == ""
    assert out.stdout.startswith("usage: python -m infra.gcs_acl ")
    assert "Exit codes: 0 " in out.stdout and "STORAGE_EMULATOR_HOST" in out.stdout
    sequence = out.stdout.split("the common sequence", maxsplit=1)[1]
    commands = [line.split()[3] for line in sequence.splitlines() if "python -m" in line]
    assert commands == ["check", "grant", "check", "revoke"]


def test_every_subcommand_has_a_one_line_help_and_a_description() -> None:
    sub = _subcommands()
    assert sorted(sub.choices) == ["check", "grant", "revoke"]
    for listed in sub._choices_actions:
        assert listed.help and "\n" not in listed.help, listed.dest
        assert sub.choices[listed.dest].description, listed.dest


@pytest.mark.parametrize("command", ["grant", "revoke", "check"])
def test_every_option_says_what_it_takes_and_its_default(command: str) -> None:
    options = [a for a in _subcommands().choices[command]._actions if a.dest != "help"]
    assert [a.option_strings[0] for a in options] == [
        "--bucket",
        "--prefix",
        "--entity",
        "--role",
        "--project",
        "--workers",
        "--retry-deadline",
        "--progress-interval",
    ]
    for action in options:
        assert action.help, action.dest
        assert action.required or "default" in action.help, action.dest
    for action in options:
        flag = action.option_strings[0]
        if flag in cli_mod.NUMERIC_FLAGS:
            limit = LIMITS[cli_mod.NUMERIC_FLAGS[flag]]
            assert action.help is not None  # the loop above asserted it
            assert limit.describe() in action.help and f"(default {action.default}" in action.help
            assert limit.allows(cli_mod.number(flag, action.default)), flag

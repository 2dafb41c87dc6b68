"""Operator CLI: ``python -m infra.gcs_acl {grant,revoke,check} --bucket NAME [options]``.

``grant`` is S1's ``gsutil acl ch -r -u AllUsers:R gs://BUCKET``; ``revoke`` undoes it; ``check``
verifies the bucket ACL, the default object ACL and every object (or, under uniform
bucket-level access, the IAM binding) and exits 1 listing what is not public, so it doubles as a
post-deploy check. Progress goes to stderr on long runs; the summary line goes to stdout.

Exit codes: 0 done (or public), 1 failed / not public / a prefix that matched nothing, 2 bad
arguments (one line, nothing sent), 130 interrupted. Ctrl-C at any moment prints one line and
the partial summary, never a traceback: the first press stops the run and lets the requests in
flight finish, a second one stops waiting for them, later ones are ignored while the result is
printed.
"""

from __future__ import annotations

import argparse
import re
import signal
import sys
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from types import FrameType
from typing import NoReturn, TextIO

from infra.gcs_acl import engine

_WHOLE = re.compile(r"[0-9]{1,9}")
_DECIMAL = re.compile(r"[0-9]{1,9}(?:\.[0-9]{1,9})?")
NUMERIC_FLAGS = {limit.flag: name for name, limit in engine.LIMITS.items() if limit.flag}
"""``--workers`` -> ``workers``: the flags that set a numeric :class:`engine.RunSettings` field."""


class UsageError(Exception):
    """A command line argparse (or a numeric flag) refuses; ``str()`` is one line."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        # argparse prints the usage block and the message on two or more lines: one line instead.
        raise UsageError(f"{message} (see {self.prog} --help)")


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="python -m infra.gcs_acl",
        description="Grant, revoke or check one ACL entry on every object of a GCS bucket "
        "(application default credentials; an emulator via STORAGE_EMULATOR_HOST).",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="{grant,revoke,check}")
    helps = {
        "grant": "give ENTITY at least ROLE on every object (idempotent)",
        "revoke": "remove ENTITY's entry where it holds ROLE or more (idempotent)",
        "check": "exit 1 and list what is not public (bucket ACL, default ACL, objects, IAM)",
    }
    for name, text in helps.items():
        p = sub.add_parser(name, help=text, description=text)
        p.add_argument("--bucket", required=True, help="bucket name (gs:// optional)")
        p.add_argument(
            "--prefix", default="", help="only objects whose name starts with this (not a glob)"
        )
        p.add_argument(
            "--entity", default="allUsers", help="ACL entity (default allUsers; AllUsers ok)"
        )
        p.add_argument(
            "--role",
            default="READER",
            help="READER (R) or OWNER (O), default READER; OWNER includes READER",
        )
        p.add_argument("--project", default=None, help="client project (default: ADC's)")
        p.add_argument(
            "--workers", default="16", help="most requests in flight at once (1-256, default 16)"
        )
        p.add_argument(
            "--retry-deadline",
            default="60",
            metavar="SECONDS",
            help="how long one request retries 429/5xx/network failures (default 60)",
        )
        p.add_argument(
            "--progress-interval",
            default="2",
            metavar="SECONDS",
            help="seconds between progress lines on stderr (default 2)",
        )
    return parser


def number(flag: str, text: str) -> int | float:
    """The value of a numeric flag: decimal digits only, finite and in the setting's range
    (:data:`engine.LIMITS`), else :class:`UsageError` naming the flag and what is allowed."""
    limit = engine.LIMITS[NUMERIC_FLAGS[flag]]
    if (_WHOLE if limit.whole else _DECIMAL).fullmatch(text):
        value: int | float = int(text) if limit.whole else float(text)
        if limit.allows(value):
            return value
    raise UsageError(f"{flag} {text!r} is not valid: expected {limit.describe()}")


class _CtrlC:
    """SIGINT handler: the first two presses raise KeyboardInterrupt (stop the run; stop waiting
    for the requests in flight), later ones, and any while the result is printed, are ignored."""

    def __init__(self) -> None:
        self.presses = 0
        self.reporting = False

    def __call__(self, _signum: int, _frame: FrameType | None) -> None:
        self.presses += 1
        if not self.reporting and self.presses <= 2:
            raise KeyboardInterrupt


@contextmanager
def _ctrl_c() -> Iterator[_CtrlC]:
    handler = _CtrlC()
    if threading.current_thread() is not threading.main_thread():
        yield handler  # signals reach only the main thread; nothing to install
        return
    previous = signal.signal(signal.SIGINT, handler)
    try:
        yield handler
    finally:
        signal.signal(signal.SIGINT, previous)


def main(argv: Sequence[str] | None = None, out: TextIO | None = None) -> int:
    """Run the CLI; returns the exit code."""
    out = out or sys.stdout
    err = sys.stderr
    with _ctrl_c() as ctrl_c:
        try:
            return _run(argv, out, err, ctrl_c)
        except KeyboardInterrupt:
            # Only before a run starts: the engine turns a Ctrl-C during a run into an error
            # with the partial summary, and presses while the result is printed are ignored.
            ctrl_c.reporting = True
            print("error: interrupted before anything was sent; nothing changed", file=err)
            return 130


def _run(argv: Sequence[str] | None, out: TextIO, err: TextIO, ctrl_c: _CtrlC) -> int:
    def progress(line: str) -> None:
        print(line, file=err, flush=True)

    try:
        args = _parser().parse_args(argv)
        settings = engine.RunSettings(
            project=engine.normalize_project(args.project),
            workers=int(number("--workers", args.workers)),
            retry_deadline_s=float(number("--retry-deadline", args.retry_deadline)),
            progress_interval_s=float(number("--progress-interval", args.progress_interval)),
        )
        spec = engine.normalize_spec(args.bucket, args.prefix, args.entity, args.role)
        if args.command == "check":
            report = engine.check(spec, settings)
            ctrl_c.reporting = True
            for f in report.findings:
                print(f"{'OK        ' if f.ok else 'NOT PUBLIC'}  {f.what}: {f.detail}", file=out)
            verdict = "public" if report.ok else "NOT public"
            print(f"check {spec.entry} on {spec.where}: {verdict}", file=out)
            return 0 if report.ok else 1
        summary = engine.apply(args.command, spec, settings, progress=progress)
    except (UsageError, engine.InvalidSpecError) as exc:
        ctrl_c.reporting = True
        print(f"error: {exc}", file=err)
        return 2
    except engine.GcsAclError as exc:
        ctrl_c.reporting = True
        print(f"error: {exc}", file=err)
        partial = exc.partial()
        if partial is not None:
            print(f"partial progress: {partial}", file=err)
        return 130 if isinstance(exc, engine.InterruptedRunError) else 1
    ctrl_c.reporting = True
    for name, reason in summary.failures:
        print(f"failed: {name}: {reason}", file=err)
    print(summary.line(), file=out)
    matched = summary.scanned > 0 or summary.vanished > 0 or not spec.prefix
    return 0 if summary.failed == 0 and matched else 1

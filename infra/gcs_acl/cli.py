"""Operator CLI: ``python -m infra.gcs_acl {grant,revoke,check} --bucket NAME [options]``.

``grant`` is S1's ``gsutil acl ch -r -u AllUsers:R gs://BUCKET``; ``revoke`` undoes it; ``check``
verifies the bucket ACL, the default object ACL and every object (or, under uniform
bucket-level access, the IAM binding) and exits 1 listing what is not public, so it doubles as a
post-deploy check. Progress goes to stderr on long runs; the summary line goes to stdout.

Errors and Ctrl-C are :mod:`infra.cli`'s: one ``error: ...`` line and the exit code. Ctrl-C at
any moment prints one line and the partial summary, never a traceback: the first press stops the
run and lets the requests in flight finish, a second one stops waiting for them, later ones are
ignored while the result is printed.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Sequence
from typing import TextIO

from infra.cli import EXIT_INTERRUPTED, EXIT_USAGE, OneLineParser, Presses, error, interruptible
from infra.gcs_acl.errors import GcsAclError, InterruptedRunError, InvalidSpecError
from infra.gcs_acl.grant import apply
from infra.gcs_acl.results import CheckReport, Summary
from infra.gcs_acl.scan import check
from infra.gcs_acl.settings import LIMITS, RunSettings
from infra.gcs_acl.spec import AclSpec, normalize_project, normalize_spec

PROG = "python -m infra.gcs_acl"
EXIT_FAILED = 1
"""A run that failed, a bucket that is not public, or a prefix that matched nothing."""
_WHOLE = re.compile(r"[0-9]{1,9}")
_DECIMAL = re.compile(r"[0-9]{1,9}(?:\.[0-9]{1,9})?")
NUMERIC_FLAGS = {limit.flag: name for name, limit in LIMITS.items() if limit.flag}
"""``--workers`` -> ``workers``: the flags that set a numeric :class:`RunSettings` field."""
_DEFAULTS = RunSettings()

_DESCRIPTION = """\
Grant, revoke or check one ACL entry on every object of a GCS bucket: S1's
`gsutil acl ch -r -u AllUsers:R gs://BUCKET`, its undoing, and the post-deploy
check. Objects already as asked are left alone, so a second run changes nothing.

Credentials: application default credentials (`gcloud auth application-default
login` or GOOGLE_APPLICATION_CREDENTIALS); with STORAGE_EMULATOR_HOST set, that
emulator, anonymously. Progress lines go to stderr, the summary line to stdout.

Exit codes: 0 done (or public); 1 failed, not public, or a prefix that matched
nothing; 2 a bad argument (one line, nothing sent); 130 interrupted by Ctrl-C
or SIGTERM. Ctrl-C (or SIGTERM) stops the run and lets the requests in flight
finish, a second one stops waiting; either way the partial summary is printed
and a re-run finishes."""

_EPILOG = """\
the common sequence (the registry bucket of project P):
  python -m infra.gcs_acl check --bucket artifacts.P.appspot.com   # what is not public
  python -m infra.gcs_acl grant --bucket artifacts.P.appspot.com   # every object public
  python -m infra.gcs_acl check --bucket artifacts.P.appspot.com   # exit 0: public
  python -m infra.gcs_acl revoke --bucket artifacts.P.appspot.com  # undo the grant

more: docs/gcs_acl.md"""

_COMMANDS = {
    "grant": (
        "give ENTITY at least ROLE on every object under PREFIX (idempotent)",
        "Give ENTITY at least ROLE on every object under PREFIX (S1's gsutil acl ch -r). "
        "Objects that hold it, or a higher role, are left alone.",
    ),
    "revoke": (
        "remove ENTITY's entry where it holds ROLE or a higher one (idempotent)",
        "Remove ENTITY's entry from every object under PREFIX where it holds ROLE or a higher "
        "one; other entities' entries stay. --role READER removes the entry whatever its role, "
        "--role OWNER leaves a READER entry alone.",
    ),
    "check": (
        "change nothing; exit 1 and list what is not public",
        "Change nothing; print one line per place and exit 1 unless all are as asked: the "
        "bucket ACL (ENTITY can list), the default object ACL (new objects) and every object "
        "under PREFIX, or, under uniform bucket-level access, the IAM binding.",
    ),
}


def _options() -> OneLineParser:
    """The options every subcommand takes."""
    common = OneLineParser(add_help=False)
    common.add_argument(
        "--bucket",
        required=True,
        metavar="NAME",
        help="the bucket, e.g. artifacts.P.appspot.com (required; gs:// optional, a path after "
        "the name is refused: use --prefix)",
    )
    common.add_argument(
        "--prefix",
        default="",
        help="only objects whose name starts with this, literally: not a glob (default: every "
        "object)",
    )
    common.add_argument(
        "--entity",
        default="allUsers",
        help="allUsers, allAuthenticatedUsers, user-EMAIL, group-EMAIL, domain-DOMAIN or "
        "project-(owners|editors|viewers)-ID (default allUsers; gsutil's AllUsers accepted)",
    )
    common.add_argument(
        "--role",
        default="READER",
        help="READER (R) or OWNER (O), at least this access: OWNER includes READER (default "
        "READER; allUsers and allAuthenticatedUsers: READER only)",
    )
    common.add_argument(
        "--project",
        default=None,
        metavar="ID",
        help="project ID for the storage client (default: the application default "
        "credentials' project; the objects need none)",
    )
    common.add_argument(
        "--workers",
        default=str(_DEFAULTS.workers),
        metavar="N",
        help=f"most requests in flight at once, {LIMITS['workers'].describe()} (default "
        f"{_DEFAULTS.workers}); a run starts with 1 and adapts to what the backend takes",
    )
    common.add_argument(
        "--retry-deadline",
        default=f"{_DEFAULTS.retry_deadline_s:g}",
        metavar="SECONDS",
        help="how long one request retries refused connections, timeouts, 429 and 5xx: "
        f"{LIMITS['retry_deadline_s'].describe()} (default {_DEFAULTS.retry_deadline_s:g})",
    )
    common.add_argument(
        "--progress-interval",
        default=f"{_DEFAULTS.progress_interval_s:g}",
        metavar="SECONDS",
        help="time between progress lines on stderr: "
        f"{LIMITS['progress_interval_s'].describe()} (default "
        f"{_DEFAULTS.progress_interval_s:g}; 0: after every list page)",
    )
    return common


def parser() -> argparse.ArgumentParser:
    """The whole command line, with its help."""
    top = OneLineParser(
        prog=PROG,
        description=_DESCRIPTION,
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = top.add_subparsers(dest="command", required=True, metavar="{grant,revoke,check}")
    common = _options()
    for name, (summary, description) in _COMMANDS.items():
        sub.add_parser(name, parents=[common], help=summary, description=description)
    return top


def number(flag: str, text: str) -> int | float:
    """The value of a numeric flag: decimal digits only, finite and in the setting's range
    (:data:`LIMITS`), else :class:`InvalidSpecError` naming the flag and what is allowed."""
    name = NUMERIC_FLAGS[flag]
    limit = LIMITS[name]
    if (_WHOLE if limit.whole else _DECIMAL).fullmatch(text):
        value: int | float = int(text) if limit.whole else float(text)
        if limit.allows(value):
            return value
    raise InvalidSpecError(f"{flag} {text!r} is not valid: expected {limit.describe()}", name)


def _settings(args: argparse.Namespace) -> RunSettings:
    return RunSettings(
        project=normalize_project(args.project),
        workers=int(number("--workers", args.workers)),
        retry_deadline_s=float(number("--retry-deadline", args.retry_deadline)),
        progress_interval_s=float(number("--progress-interval", args.progress_interval)),
    )


def main(argv: Sequence[str] | None = None, out: TextIO | None = None) -> int:
    """Run the CLI; returns the exit code (a usage error exits 2 from the parser)."""
    with interruptible(2) as presses:
        try:
            return _run(parser().parse_args(argv), out or sys.stdout, presses)
        except KeyboardInterrupt:
            # Only before a run starts: a run turns a Ctrl-C into an InterruptedRunError with
            # the partial result, and presses while the result is printed are ignored.
            presses.settle()
            return error("interrupted before anything was sent; nothing changed", EXIT_INTERRUPTED)


def _run(args: argparse.Namespace, out: TextIO, presses: Presses) -> int:
    """Validate, run the subcommand and say what it did."""
    try:
        settings = _settings(args)
        spec = normalize_spec(args.bucket, args.prefix, args.entity, args.role)
        if args.command == "check":
            report = check(spec, settings)
            presses.settle()
            return _checked(report, out)
        summary = apply(args.command, spec, settings, progress=_progress)
    except InvalidSpecError as err:
        presses.settle()
        return error(str(err), EXIT_USAGE)
    except GcsAclError as err:
        presses.settle()
        return _failed(err)
    presses.settle()
    return _done(summary, spec, out)


def _progress(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def _checked(report: CheckReport, out: TextIO) -> int:
    for f in report.findings:
        print(f"{'OK        ' if f.ok else 'NOT PUBLIC'}  {f.what}: {f.detail}", file=out)
    verdict = "public" if report.ok else "NOT public"
    print(f"check {report.spec.entry} on {report.spec.where}: {verdict}", file=out)
    return 0 if report.ok else EXIT_FAILED


def _failed(err: GcsAclError) -> int:
    """The error line, and the partial progress when a run had started."""
    code = EXIT_INTERRUPTED if isinstance(err, InterruptedRunError) else EXIT_FAILED
    error(str(err), code)
    partial = err.partial()
    if partial is not None:
        print(f"partial progress: {partial}", file=sys.stderr)
    return code


def _done(summary: Summary, spec: AclSpec, out: TextIO) -> int:
    for name, reason in summary.failures:
        print(f"failed: {name}: {reason}", file=sys.stderr)
    print(summary.line(), file=out)
    matched = summary.scanned > 0 or summary.vanished > 0 or not spec.prefix
    return 0 if summary.failed == 0 and matched else EXIT_FAILED

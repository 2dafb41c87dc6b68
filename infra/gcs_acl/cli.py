"""Operator CLI: ``python -m infra.gcs_acl {grant,revoke,check} --bucket NAME [options]``.

``grant`` is S1's ``gsutil acl ch -r -u AllUsers:R gs://BUCKET``; ``revoke`` undoes it; ``check``
verifies the bucket ACL, the default object ACL and every object (or, under uniform
bucket-level access, the IAM binding) and exits 1 listing what is not public, so it doubles as a
post-deploy check. Progress goes to stderr on long runs; the summary line goes to stdout.

Exit codes: 0 done (or public), 1 failed / not public, 2 bad arguments, 130 interrupted (Ctrl-C:
requests in flight finish, the partial summary is printed, a re-run completes).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import TextIO

from infra.gcs_acl import engine


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m infra.gcs_acl",
        description="Grant, revoke or check one ACL entry on every object of a GCS bucket "
        "(application default credentials; an emulator via STORAGE_EMULATOR_HOST).",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="{grant,revoke,check}")
    helps = {
        "grant": "give ENTITY the ROLE on every object (idempotent)",
        "revoke": "remove ENTITY's ROLE from every object (idempotent)",
        "check": "exit 1 and list what is not public (bucket ACL, default ACL, objects, IAM)",
    }
    for name, text in helps.items():
        p = sub.add_parser(name, help=text, description=text)
        p.add_argument("--bucket", required=True, help="bucket name (gs:// optional)")
        p.add_argument("--prefix", default="", help="only objects under this prefix")
        p.add_argument(
            "--entity", default="allUsers", help="ACL entity (default allUsers; AllUsers ok)"
        )
        p.add_argument("--role", default="READER", help="READER (R) or OWNER (O); default READER")
        p.add_argument("--project", default=None, help="client project (default: ADC's)")
        p.add_argument(
            "--workers", type=int, default=16, help="patches in flight at once (default 16)"
        )
        p.add_argument(
            "--retry-deadline",
            type=float,
            default=60.0,
            metavar="SECONDS",
            help="how long one request retries 429/5xx/network failures (default 60)",
        )
        p.add_argument(
            "--progress-interval",
            type=float,
            default=2.0,
            metavar="SECONDS",
            help="seconds between progress lines on stderr (default 2)",
        )
    return parser


def main(argv: Sequence[str] | None = None, out: TextIO | None = None) -> int:
    """Run the CLI; returns the exit code."""
    out = out or sys.stdout
    args = _parser().parse_args(argv)
    err = sys.stderr

    def progress(line: str) -> None:
        print(line, file=err, flush=True)

    try:
        spec = engine.normalize_spec(args.bucket, args.prefix, args.entity, args.role)
        settings = engine.RunSettings(
            project=args.project,
            workers=args.workers,
            retry_deadline_s=args.retry_deadline,
            progress_interval_s=args.progress_interval,
        )
        if args.command == "check":
            report = engine.check(spec, settings)
            for f in report.findings:
                print(f"{'OK        ' if f.ok else 'NOT PUBLIC'}  {f.what}: {f.detail}", file=out)
            verdict = "public" if report.ok else "NOT public"
            print(f"check {spec.entry} on {spec.where}: {verdict}", file=out)
            return 0 if report.ok else 1
        summary = engine.apply(args.command, spec, settings, progress=progress)
    except engine.InvalidSpecError as exc:
        print(f"error: {exc}", file=err)
        return 2
    except engine.GcsAclError as exc:
        print(f"error: {exc}", file=err)
        if exc.summary is not None:
            print(f"partial progress: {exc.summary.line()}", file=err)
        return 130 if isinstance(exc, engine.InterruptedRunError) else 1
    for name, reason in summary.failures:
        print(f"failed: {name}: {reason}", file=err)
    print(summary.line(), file=out)
    return 0 if summary.failed == 0 else 1

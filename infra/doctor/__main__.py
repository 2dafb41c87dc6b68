"""``python -m infra.doctor``: the doctor's command line (:mod:`infra.doctor`)."""

from __future__ import annotations

if __name__ == "__main__":  # before the imports below, which take most of a second
    from infra.cli import guard_start

    guard_start()

import argparse
from collections.abc import Sequence

from infra import cli
from infra.cli import OneLineParser, run
from infra.doctor.check import Doctor
from infra.doctor.findings import missing, report
from infra.offline import stackfile

DESCRIPTION = """\
Before `pulumi up --stack STACK`: checks what this machine and the stack still
need, one line each: the Pulumi CLI and its backend login, Docker with
BuildKit (when the stack builds an image), for GKE stacks the GKE auth plugin
and GCP credentials, then the stack file as the Pulumi CLI checks it, its
config as the program checks it (an offline render) and its app secrets (set,
encrypted, decryptable). Each line is ok, MISSING with the command that fixes
it, or "not checked" for what only the cloud can answer. It only reads:
nothing is changed."""

EPILOG = """\
the usual sequence:
  python -m infra.doctor --stack dev   fix each MISSING line, run it again
  make preview STACK=dev               pulumi preview with the policy pack
  make up STACK=dev                    pulumi up with the policy pack

environment:
  PULUMI                    the Pulumi CLI to check and run: a path or a
                            command name (default: pulumi on PATH)
  PULUMI_CONFIG_PASSPHRASE  decrypts a passphrase stack's secrets (or
                            PULUMI_CONFIG_PASSPHRASE_FILE)
  GOOGLE_APPLICATION_CREDENTIALS
                            GCP credentials (default: gcloud's application
                            default credentials in ~/.config/gcloud)

exit status: 0 nothing missing, 1 something missing, 2 a bad argument,
130 interrupted by Ctrl-C or SIGTERM"""


def parser() -> OneLineParser:
    """The command line: what ``--help`` shows."""
    parser = OneLineParser(
        prog="python -m infra.doctor",
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--stack",
        required=True,
        help="the stack `pulumi up` will deploy: the name of its file stacks/Pulumi.<stack>.yaml "
        f"({stackfile.stack_names_shown()}); required",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """CLI entry point; returns the exit code."""
    args = parser().parse_args(argv)
    try:
        stackfile.stack_file(args.stack)
    except stackfile.StackFileError as err:
        return cli.error(str(err), cli.EXIT_USAGE)
    findings = Doctor(args.stack).check()
    for line in report(args.stack, findings):
        print(line)
    return 1 if missing(findings) else 0


if __name__ == "__main__":
    run(main, "nothing changed (the doctor only reads)")

"""``python -m infra.e2e``: the end-to-end driver's command line (:mod:`infra.e2e`)."""

from __future__ import annotations

if __name__ == "__main__":  # before the imports below
    from infra.cli import guard_start

    guard_start()

import argparse
import json
import re
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from infra.cli import EXIT_USAGE, OneLineParser, error, run, whole
from infra.e2e import scenario, tool
from infra.e2e.cluster import ClusterError, Kubectl, find_kubectl
from infra.e2e.load import Load, TargetError, target

PROG = "python -m infra.e2e"
Out = Callable[[str], None]

DESCRIPTION = """\
Take one app of a deployed stack through a whole blue/green release with the
release tool (python -m infra.release STEP --apply: start, promote, rollback,
promote, finish), then start a candidate that answers 500, while steady
requests go to the live URL. It passes when no request failed across every
switch, the broken candidate's smoke Job failed its update while the live color
kept serving, and after each step the cluster's live Service, the stack file
and `status --json` agree on the live color. It changes the stack: run it on a
stack made for it (Minikube's local, or a throwaway one), from a checkout whose
stack file records what is deployed."""

EPILOG = f"""\
examples:
  {PROG} --stack local --app kubia --url "$(minikube service kubia-http --url)"
      Minikube: its LoadBalancer has no address, so the outputs give no URL
  {PROG} --stack e2e --app imageview --report e2e.json
      a GKE stack: the URL is apps.imageview.url of `pulumi stack output`

$PULUMI names the Pulumi CLI the release tool and this driver run (default
pulumi), $KUBECTL the kubectl (default kubectl; its current context unless
--context). The release tool's output is shown as it runs.

exit status: 0 every check held; 1 a check failed (the first one stops the run,
the cluster is left as that step left it); 2 bad input, or the stack is not
ready for a run (one line; nothing changed); 130 interrupted by Ctrl-C or SIGTERM"""

_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def env_var(text: str) -> tuple[str, str]:
    """An argparse ``type=``: ``NAME=VALUE``, an environment variable name and a value."""
    name, sep, value = text.partition("=")
    if not sep or not _ENV_NAME.fullmatch(name) or not value:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not NAME=VALUE (NAME: letters, digits and _, not starting with a "
            "digit; VALUE not empty)"
        )
    return name, value


def build_parser() -> OneLineParser:
    parser = OneLineParser(
        prog=PROG,
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add = parser.add_argument
    add("--stack", required=True, help="the deployed stack: stacks/Pulumi.STACK.yaml (e.g. local)")
    add("--app", required=True, help="the app to release: a key under gke-bluegreen:apps")
    add(
        "--url",
        help="the live URL the load goes to, http(s)://HOST[:PORT] (default: apps.APP.url of "
        "`pulumi stack output --json`; Minikube gives none: `minikube service SERVICE --url`)",
    )
    add("--path", default="/", help="the path each request asks for (default /)")
    add(
        "--expect",
        type=whole(100, 599),
        default=200,
        metavar="STATUS",
        help="the status every answer must have (default 200; a redirect always fails)",
    )
    add("--rate", type=whole(1, 50), default=5, help="requests per second, 1-50 (default 5)")
    add(
        "--request-timeout",
        type=whole(1, 60),
        default=5,
        metavar="SECONDS",
        help="the longest one request may take, its whole answer included (1-60, default 5)",
    )
    add(
        "--max-requests",
        type=whole(1, 1_000_000),
        default=100_000,
        metavar="N",
        help="the load stops after N requests, and the run fails (default 100000)",
    )
    add(
        "--max-seconds",
        type=whole(60, 86_400),
        default=10_800,
        metavar="SECONDS",
        help="the load stops after this long, and the run fails (60-86400, default 10800)",
    )
    add(
        "--service",
        help="the app's live Service (default: service.name in the stack file, else the app)",
    )
    add("--context", help="the kubeconfig context kubectl uses (default: the current one)")
    add("--namespace", help="the namespace of the app's objects (default: kubectl's)")
    add(
        "--release-env",
        type=env_var,
        metavar="NAME=VALUE",
        help="the env var the release's candidate gets, so it differs from the live color "
        "(default E2E_RELEASE=<the UTC time>)",
    )
    add(
        "--broken-env",
        type=env_var,
        metavar="NAME=VALUE",
        help="the env var that makes the last candidate answer 500 on --path (default, for a "
        "Node app such as kubia, node-app or imageview: NODE_OPTIONS preloading a module that "
        "does so, the probes unaffected); give one that works for another app",
    )
    add(
        "--verify-requests",
        type=whole(1, 1000),
        metavar="N",
        help="passed to `promote --apply --verify-requests` (default: the release tool's)",
    )
    add(
        "--step-timeout",
        type=whole(60, 14_400),
        default=4_000,
        metavar="SECONDS",
        help="the longest one release step may take, its pulumi up included (60-14400, default "
        "4000: past the release tool's own hour for pulumi up, so the tool stops it first)",
    )
    add("--report", type=Path, metavar="FILE", help="also write the run's report here, as JSON")
    return parser


def main(argv: Sequence[str] | None = None, out: Out | None = None) -> int:
    """Runs the driver; returns the exit status."""
    args = build_parser().parse_args(argv)
    say = out or (lambda line: print(line, flush=True))
    try:
        recorded = tool.recorded(args.stack, args.app)
        url = args.url if args.url is not None else tool.live_url(args.stack, args.app)
        if not url:
            return error(
                f"the outputs of {args.stack} give {args.app} no URL (a LoadBalancer on Minikube "
                'has no address): pass --url, e.g. --url "$(minikube service '
                f'{args.service or recorded.service} --url)"',
                EXIT_USAGE,
            )
        where = target(url, args.path)
        kubectl = find_kubectl()
        if kubectl is None:
            return error("kubectl is not on PATH: install it or set $KUBECTL to it", EXIT_USAGE)
        plan = scenario.Plan(
            stack=args.stack,
            app=args.app,
            service=args.service or recorded.service,
            release_env=args.release_env
            or ("E2E_RELEASE", time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())),
            broken_env=args.broken_env or ("NODE_OPTIONS", scenario.answers_500(args.path)),
            verify_requests=args.verify_requests,
            step_timeout_s=args.step_timeout,
            settle_s=args.request_timeout + 2.0 / args.rate + 1,
        )
        load = Load(
            where,
            rate=args.rate,
            expect=args.expect,
            timeout_s=args.request_timeout,
            max_requests=args.max_requests,
            max_seconds=args.max_seconds,
        )
        report = scenario.run(
            plan, Kubectl(kubectl, args.context, args.namespace), load, str(where), say
        )
    except TargetError as err:
        return error(str(err), EXIT_USAGE)
    except (tool.ToolError, ClusterError, scenario.PreconditionError) as err:
        return error(f"{err}; nothing changed", EXIT_USAGE)
    if args.report is not None:
        try:
            args.report.write_text(json.dumps(report.as_json(), indent=2) + "\n")
        except OSError as err:
            error(f"cannot write the report {args.report}: {err.strerror or err}", 1)
    failures = len(report.tally.failures)
    if report.passed:
        say(
            f"e2e passed: {len(report.outcomes)} steps, {report.tally.total} requests, "
            f"{failures} failed"
        )
        return 0
    failed = next((o for o in report.outcomes if o.problems), None)
    where_failed = f"at the {failed.label}: {'; '.join(failed.problems)}" if failed else ""
    if failed is None:
        where_failed = f"{failures} requests failed outside the steps"
        if report.tally.stopped:
            where_failed = f"the load stopped: {report.tally.stopped}"
    return error(f"e2e failed {where_failed} ({report.tally.total} requests, {failures} failed)", 1)


if __name__ == "__main__":
    run(main, "the release stands where the last step left it: python -m infra.release status")

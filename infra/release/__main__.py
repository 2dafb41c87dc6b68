"""``python -m infra.release``: the release tool's command line (:mod:`infra.release`). Each
subcommand reads its options and hands them to one function of the package."""

from __future__ import annotations

if __name__ == "__main__":  # before the imports below, which take most of a second
    from infra.cli import guard_start

    guard_start()

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TypeAlias

from infra.cli import EXIT_INTERRUPTED, EXIT_USAGE, OneLineParser, error, run, whole
from infra.offline import stackfile
from infra.release import canary_run, deployed, lock, status
from infra.release.errors import CheckFailed, ReleaseError
from infra.release.finish import plan_finish
from infra.release.rendering import settings_of
from infra.release.run import run_step
from infra.release.shift import (
    HIGHEST,
    LOWEST,
    check_smoke_passed,
    check_weight,
    plan_abort,
    plan_shift,
)
from infra.release.start import plan_start
from infra.release.switch import plan_promote, plan_rollback
from infra.release.verify import MAX_REQUESTS, Verification, promote_and_verify, verify
from infra.settings import ConfigError

PROG = "python -m infra.release"
#: The exit status when `verify`, `check` or the check after `promote --apply` finds a problem.
EXIT_CHECK = 1
Out = Callable[[str], None]

DESCRIPTION = """\
Blue/green and canary releases without a controller. Each step edits the stack
file (stacks/Pulumi.STACK.yaml; comments and order kept) to record what serves
traffic, so that `pulumi up` can never change the live color in place. Before
writing, a step renders the stack offline, before and after, and prints what
`pulumi up` will change; a step that would touch what it must not is refused,
and nothing is written."""

EPILOG = f"""\
a release, step by step (app A: blue is live, green is idle):
  {PROG} status --stack S
      where every app of the stack stands, and the next step
  {PROG} start --stack S --app A --source apps/A/green
      pins blue (live) to what it runs; green becomes the candidate
  pulumi up --stack S
      builds and rolls green only; its smoke Job must pass
  kubectl port-forward svc/SERVICE-preview 8080:80
      a look at green before any user sees it
  {PROG} promote --stack S --app A --apply
      traffic to green; the live URL is checked, a failure rolls back
  {PROG} finish --stack S --app A --apply
      pins green by digest; blue is scaled down
if the release misbehaves (before finish, or after while blue still runs it):
  {PROG} rollback --stack S --app A --apply
      traffic back to blue
a canary app (apps.A.strategy: canary) takes the requests in steps between start
and promote, through the stack's Gateway:
  {PROG} shift --stack S --app A --apply
      the candidate gets the plan's next share (5, 25, 50 %); only the route changes
  {PROG} abort --stack S --app A --apply
      every request back to the live color; the candidate stays recorded
  {PROG} run --stack S --app A --apply
      the whole plan unattended: shift, wait, analyse, then promote; aborts by itself

one step at a time per stack: a step holds stacks/.Pulumi.STACK.yaml.lock until
its `pulumi up` ends; a second one is refused, naming the holder

exit status: 0 done; 1 `verify` or `check` found a problem, the live check
after `promote --apply` failed (rolled back) or could not run (traffic moved,
unverified), or `run` aborted the canary (the line says why); 2 refused or bad
input (one line; nothing written, unless the line says what was); 130
interrupted by Ctrl-C or SIGTERM (the line says what was done)"""


# --------------------------------------------------------------------------- subcommands


def _status(args: argparse.Namespace, out: Out) -> int:
    outputs = None
    if args.outputs:
        outputs = deployed.read_outputs(args.stack, args.outputs)
        deployed.check_outputs(settings_of(args.stack), outputs)
    rows = status.statuses(args.stack, args.app, outputs)
    if args.json:
        out(json.dumps(status.as_json(args.stack, rows), indent=2))
    else:
        unknown = None if outputs is not None else "the outputs were not read"
        for line in status.table(rows, unknown):
            out(line)
    return 0


def _start(args: argparse.Namespace, out: Out) -> int:
    outputs = deployed.read_outputs(args.stack, args.outputs)
    step = plan_start(
        args.stack, args.app, outputs, source=args.source, image=args.image, sets=args.set
    )
    run_step(step, args.apply, out)
    return 0


def _deployed(args: argparse.Namespace) -> deployed.Outputs | None:
    """What is deployed, for a step that can do without: from --outputs, or from the CLI when
    --apply needs it anyway."""
    if args.outputs or args.apply:
        return deployed.read_outputs(args.stack, args.outputs)
    return None


def _promote(args: argparse.Namespace, out: Out) -> int:
    if args.apply:
        verification = Verification(args.verify_requests)
        promote_and_verify(args.stack, args.app, args.outputs, verification, out)
    else:
        run_step(plan_promote(args.stack, args.app, _deployed(args)), False, out)
    return 0


def _shift(args: argparse.Namespace, out: Out) -> int:
    step = plan_shift(args.stack, args.app, args.weight, _deployed(args))
    if args.apply:
        check_smoke_passed(args.stack, args.app, "shift")
    run_step(step, args.apply, out)
    return 0


def _abort(args: argparse.Namespace, out: Out) -> int:
    run_step(plan_abort(args.stack, args.app, _deployed(args)), args.apply, out)
    return 0


def _run(args: argparse.Namespace, out: Out) -> int:
    if not args.apply:
        raise ReleaseError(
            "run takes --apply: it applies each step with `pulumi up` as it goes (`shift` "
            "without --apply writes one step)"
        )
    if args.outputs:
        raise ReleaseError(
            "run reads the outputs from the CLI after each `pulumi up`, never from --outputs"
        )
    options = canary_run.RunOptions(
        plan=args.plan,
        pause_s=args.pause,
        route_timeout_s=args.route_timeout,
        route_poll_s=args.route_poll,
        split_timeout_s=args.split_timeout,
        split_tolerance=args.split_tolerance / 100,
        split_confidence=args.split_confidence / 100,
        request_timeout_s=args.request_timeout,
        metrics_delay_s=args.metrics_delay,
        analysis_every_s=args.analysis_every,
        inconclusive_s=args.inconclusive_timeout,
        kubeconfig=args.kubeconfig,
        monitoring_endpoint=args.monitoring_endpoint,
        policy_pack=args.policy_pack,
    )
    canary_run.run(args.stack, args.app, options, out)
    return 0


def _rollback(args: argparse.Namespace, out: Out) -> int:
    run_step(plan_rollback(args.stack, args.app, _deployed(args)), args.apply, out)
    return 0


def _finish(args: argparse.Namespace, out: Out) -> int:
    outputs = deployed.read_outputs(args.stack, args.outputs)
    step = plan_finish(args.stack, args.app, outputs, args.idle_replicas)
    run_step(step, args.apply, out)
    return 0


def _verify(args: argparse.Namespace, out: Out) -> int:
    v = Verification(args.requests, timeout_s=args.timeout)
    answered = verify(args.stack, args.app, args.outputs, v, out)
    return 0 if answered else 1


def _check(args: argparse.Namespace, out: Out) -> int:
    outputs = deployed.read_outputs(args.stack, args.outputs)
    problems = status.check(args.stack, outputs)
    for line in problems:
        out(f"unsafe: {line}")
    if not outputs and not problems:
        out(f"{args.stack}: nothing is deployed yet (its outputs are {{}}): nothing live to guard")
    out(f"{args.stack}: {'not safe to deploy' if problems else 'safe to deploy'}")
    return 1 if problems else 0


def error_interrupted(message: str) -> int:
    """The line a run stopped by Ctrl-C or SIGTERM ends with, and exit 130."""
    print(f"interrupted: {message}", file=sys.stderr, flush=True)
    return EXIT_INTERRUPTED


# --------------------------------------------------------------------------- the parser


def _common() -> OneLineParser:
    """--stack and --outputs, which every subcommand takes."""
    common = OneLineParser(add_help=False)
    common.add_argument(
        "--stack",
        required=True,
        help="the stack whose file is read and edited: stacks/Pulumi.STACK.yaml (e.g. dev)",
    )
    common.add_argument(
        "--outputs",
        type=Path,
        metavar="FILE",
        help="read what is deployed from FILE, made by `pulumi stack output --json --stack "
        "STACK > FILE` (default: run that command; $PULUMI names the CLI, default pulumi)",
    )
    return common


def _app(p: argparse.ArgumentParser, required: bool = True) -> None:
    p.add_argument(
        "--app",
        required=required,
        help="the app: a key under gke-bluegreen:apps in the stack file"
        + ("" if required else " (default: every app of the stack)"),
    )


def _apply(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--apply",
        action="store_true",
        help="after writing the stack file, run `pulumi up --stack STACK --yes` (default: only "
        "write it; run pulumi up yourself)",
    )


Subparsers: TypeAlias = "argparse._SubParsersAction[OneLineParser]"


def _subcommand(
    sub: Subparsers,
    name: str,
    *,
    summary: str,
    details: str,
    func: Callable[[argparse.Namespace, Out], int],
) -> OneLineParser:
    """A subcommand that takes --stack and --outputs and runs ``func``."""
    description = f"{summary[0].upper()}{summary[1:]}. {details}"
    p = sub.add_parser(name, parents=[_common()], help=summary, description=description)
    p.set_defaults(func=func)
    return p


def _add_status(sub: Subparsers) -> None:
    p = _subcommand(
        sub,
        "status",
        summary="show where each app's release stands",
        details=(
            "One table: the live color and what it runs, the candidate, the idle color, and the "
            "step of the release with the next one. With --outputs, a cluster that serves another "
            "color than the stack file says is shown too (a promote not applied, above all); "
            "without, what the cluster serves is said to be unknown. An app whose "
            "release.allowLiveChange is on gets a WARNING line."
        ),
        func=_status,
    )
    _app(p, required=False)
    p.add_argument(
        "--json",
        action="store_true",
        help="print one JSON object for scripts and CI instead of the table (its stable shape: "
        "infra/release/status.py)",
    )


def _add_start(sub: Subparsers) -> None:
    p = _subcommand(
        sub,
        "start",
        summary="pin the live color and make the idle color the candidate",
        details=(
            "The live color is pinned to what it runs (its image by digest from the outputs, "
            "its config and secret values as its own copies); the idle color gets the new "
            "source, image or config and is recorded as the candidate. `pulumi up` then builds "
            "and checks only the candidate. Without --source, --image or --set, the candidate is "
            "what the idle "
            "color has now."
        ),
        func=_start,
    )
    _app(p)
    what = p.add_mutually_exclusive_group()
    what.add_argument(
        "--source",
        metavar="DIR",
        help="the candidate builds from this folder under apps/ (holding a Dockerfile), e.g. "
        "apps/imageview/green; an absolute path inside the repository is stored relative",
    )
    what.add_argument(
        "--image",
        metavar="REF",
        help="the candidate runs this image instead of building one, by digest "
        "(registry/name@sha256:<64 hex>; the local platform also takes its name:src-<12 hex> "
        "tags)",
    )
    p.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="PATH=VALUE",
        help="also set a config value as `pulumi config set --path PATH VALUE` would, e.g. "
        "apps.kubia.colors.green.env.V=2; repeatable; only what the candidate reads may change "
        "(never apps.APP.release: the steps write it)",
    )
    _apply(p)


def _add_promote(sub: Subparsers) -> None:
    p = _subcommand(
        sub,
        "promote",
        summary="move traffic to the candidate",
        details=(
            "The candidate must be what `start` recorded (what `pulumi up` checked). The live "
            "color becomes the previous one, kept unchanged for a rollback until `finish`. With "
            "--apply, the live URL is checked afterwards: a failure rolls back by itself, and a "
            "check that cannot run exits 1 saying traffic moved unverified. A promote the stack "
            "file records but the cluster does not serve (its `pulumi up` did not finish) is "
            "taken again. With --apply, a candidate whose smoke Job failed in the last `pulumi "
            "up` (the engine's state says so) is refused: start again with a fix."
        ),
        func=_promote,
    )
    _app(p)
    _apply(p)
    p.add_argument(
        "--verify-requests",
        type=whole(1, MAX_REQUESTS),
        default=10,
        metavar="N",
        help=f"with --apply: requests to the live URL, 1 s apart, that must all answer as the "
        f"smoke check expects, or the promote is rolled back (1-{MAX_REQUESTS}, default 10)",
    )


def _weight(text: str) -> int:
    """``--weight``: 1-99, and one line saying what 0 and 100 are instead."""
    try:
        weight = whole(0, 100)(text)
    except argparse.ArgumentTypeError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a whole number from {LOWEST} to {HIGHEST}"
        ) from None
    try:
        check_weight(weight)
    except ReleaseError as err:
        raise argparse.ArgumentTypeError(str(err).removeprefix(f"--weight {weight}: ")) from None
    return weight


def _add_shift(sub: Subparsers) -> None:
    p = _subcommand(
        sub,
        "shift",
        summary="give a canary app's candidate a share of the requests",
        details=(
            "Writes apps.APP.release.weight: the app's HTTPRoute sends that share of the "
            "requests to the candidate and the rest to the live color. A shift changes the "
            "route and nothing else (refused otherwise). Only for a canary app "
            "(apps.APP.strategy: canary) with a release started and not promoted; `promote` "
            "gives the candidate every request, `abort` none."
        ),
        func=_shift,
    )
    _app(p)
    p.add_argument(
        "--weight",
        type=_weight,
        metavar="N",
        help="the candidate's share in percent, 1-99 (default: the next weight of the app's "
        "canary.plan above the current one; 100 is `promote`, 0 is `abort`)",
    )
    _apply(p)


def _add_abort(sub: Subparsers) -> None:
    p = _subcommand(
        sub,
        "abort",
        summary="send every request of a canary app back to the live color",
        details=(
            "Sets the candidate's share back to 0: one `pulumi up` that changes only the app's "
            "HTTPRoute. The candidate stays recorded: a later `shift`, or a new `start`, may "
            "follow."
        ),
        func=_abort,
    )
    _app(p)
    _apply(p)


def _plan(text: str) -> tuple[int, ...]:
    """``--plan``: comma-separated weights, strictly increasing, ending at 100."""
    allowed = "weights 1-100, strictly increasing, ending at 100, e.g. 5,25,50,100"
    parts = text.split(",")
    if not all(p.strip().isdigit() for p in parts):
        raise argparse.ArgumentTypeError(f"{text!r}: allowed is {allowed}")
    plan = tuple(int(p) for p in parts)
    try:
        canary_run.check_plan(plan, 0)
    except ReleaseError:
        raise argparse.ArgumentTypeError(f"{text!r}: allowed is {allowed}") from None
    return plan


def _add_run(sub: Subparsers) -> None:
    p = _subcommand(
        sub,
        "run",
        summary="take a canary app's whole plan, unattended",
        details=(
            "For each weight of the plan below 100: shift and `pulumi up`; wait until the "
            "HTTPRoute is current (every parent Accepted and ResolvedRefs for its generation) "
            "and requests through the Gateway split as weighted; hold for the pause while the "
            "load balancer's metrics of both colors are analysed. A failing analysis, one that "
            "stays inconclusive past its bound, a route never current or a split never in "
            "effect aborts (weight 0, one `pulumi up` of the route) and exits 1; so does Ctrl-C "
            "or SIGTERM (exit 130), unless the promote was applied. After the last step: "
            "promote, and the same waits at 100 %. `finish` stays a separate step. Progress "
            "lines as it goes, a summary table at the end (also appended to "
            "$GITHUB_STEP_SUMMARY when set)."
        ),
        func=_run,
    )
    _app(p)
    p.add_argument(
        "--apply",
        action="store_true",
        help="required: each step is applied with `pulumi up --stack STACK --yes` as it goes",
    )
    p.add_argument(
        "--plan",
        type=_plan,
        metavar="W,W,...",
        help="the candidate's weights, e.g. 5,25,50,100 (default: the app's canary.plan); "
        "weights at or below the current one are skipped",
    )
    p.add_argument(
        "--pause",
        type=whole(0, 86400),
        metavar="S",
        help="seconds each step holds while analysing, from when its weight took effect "
        "(0-86400; default: the app's canary.pauseSeconds)",
    )
    p.add_argument(
        "--route-timeout",
        type=whole(1, 3600),
        default=300,
        metavar="S",
        help="seconds to wait for the HTTPRoute to be current, else abort (1-3600, default "
        "300: GKE takes a minute or two to program a change)",
    )
    p.add_argument(
        "--route-poll",
        type=whole(1, 60),
        default=5,
        metavar="S",
        help="seconds between reads of the HTTPRoute (1-60, default 5)",
    )
    p.add_argument(
        "--split-timeout",
        type=whole(1, 3600),
        default=300,
        metavar="S",
        help="seconds to wait for requests through the Gateway to split as weighted, else "
        "abort (1-3600, default 300)",
    )
    p.add_argument(
        "--split-tolerance",
        type=whole(1, 50),
        default=5,
        metavar="POINTS",
        help="how far the candidate's observed share may be from its weight, in percentage "
        "points (1-50, default 5)",
    )
    p.add_argument(
        "--split-confidence",
        type=whole(50, 99),
        default=99,
        metavar="PERCENT",
        help="the confidence of the observed share's interval (50-99, default 99)",
    )
    p.add_argument(
        "--request-timeout",
        type=whole(1, 600),
        default=5,
        metavar="S",
        help="seconds one request through the Gateway may take in all (1-600, default 5)",
    )
    p.add_argument(
        "--metrics-delay",
        type=whole(0, 3600),
        metavar="S",
        help="the analysis window ends this long ago: the load balancer's points arrive late "
        "(0-3600; default: the GatewayClass's documented delay, 210 s for the global and "
        "regional external ones, 90 s for gke-l7-rilb)",
    )
    p.add_argument(
        "--analysis-every",
        type=whole(1, 3600),
        default=30,
        metavar="S",
        help="seconds between analyses while a step holds (1-3600, default 30)",
    )
    p.add_argument(
        "--inconclusive-timeout",
        type=whole(0, 86400),
        default=600,
        metavar="S",
        help="how long a step keeps holding while the analysis is inconclusive (too few "
        "requests, data missing), counted from the end of the pause or from the first window "
        "that can be judged (the metrics delay plus 60 s after the weight took effect), "
        "whichever is later; then it aborts: never a promote on no data (0-86400, default 600)",
    )
    p.add_argument(
        "--kubeconfig",
        type=Path,
        metavar="FILE",
        help="the cluster's kubeconfig (default: the stack's kubeconfig output, read with "
        "`pulumi stack output kubeconfig --show-secrets`)",
    )
    p.add_argument(
        "--monitoring-endpoint",
        metavar="HOST:PORT",
        help=f"a local stub of the Cloud Monitoring API, plaintext gRPC on a loopback address "
        f"(default: ${canary_run.MONITORING_ENDPOINT_ENV}, else Cloud Monitoring with the "
        "Application Default Credentials)",
    )
    p.add_argument(
        "--policy-pack",
        type=Path,
        metavar="DIR",
        help="a CrossGuard policy pack every `pulumi up` of the run enforces, as `pulumi up "
        "--policy-pack DIR` (e.g. policy; default: none)",
    )


def _add_rollback(sub: Subparsers) -> None:
    p = _subcommand(
        sub,
        "rollback",
        summary="move traffic back to the previous color",
        details=(
            "Before `finish`, to the previous color; after it, to the idle color while it still "
            "runs the release before. Either way the color traffic leaves becomes the candidate "
            "again: `promote` re-releases it, and a second rollback is refused."
        ),
        func=_rollback,
    )
    _app(p)
    _apply(p)


def _add_finish(sub: Subparsers) -> None:
    p = _subcommand(
        sub,
        "finish",
        summary="pin the new live color by digest and scale the previous one down",
        details=(
            "Ends a promoted release: the new live color runs its image by digest (from the "
            "outputs) and its own config, and the previous color is freed and scaled to "
            "--idle-replicas. Rolling back stays possible while it runs the release before."
        ),
        func=_finish,
    )
    _app(p)
    p.add_argument(
        "--idle-replicas",
        type=whole(0, 1000),
        metavar="N",
        help="pods the previous color keeps (0-1000; default: the app's idleReplicas, else 1)",
    )
    _apply(p)


def _add_verify(sub: Subparsers) -> None:
    p = _subcommand(
        sub,
        "verify",
        summary="check that the live URL answers as the smoke check expects",
        details=(
            "Requests the app's public URL (from the outputs) plus smoke.path, expecting "
            "smoke.status and smoke.text; exit 1 when an answer differs. An app without a public "
            "URL is not checked."
        ),
        func=_verify,
    )
    _app(p)
    p.add_argument(
        "--requests",
        type=whole(1, MAX_REQUESTS),
        default=10,
        metavar="N",
        help=f"requests, 1 s apart, that must all answer as expected (1-{MAX_REQUESTS}, "
        "default 10)",
    )
    p.add_argument(
        "--timeout",
        type=whole(1, 600),
        default=5,
        metavar="S",
        help="seconds one request may take in all: connecting, the headers and the whole body "
        "(1-600, default 5); a redirect is never followed",
    )


def _add_check(sub: Subparsers) -> None:
    _subcommand(
        sub,
        "check",
        summary="exit 1 when deploying the stack could change a live color in place",
        details=(
            "For every deployed app: a release must be recorded, release.allowLiveChange must be "
            "off, and the cluster must serve and run what the stack file records. Outputs it "
            "cannot read or trust (nothing printed, not JSON, another stack's) are an error, "
            "never 'safe'. The deploy workflow runs it before `pulumi up`."
        ),
        func=_check,
    )


def build_parser() -> OneLineParser:
    """The whole command line: every subcommand, its options and their help."""
    parser = OneLineParser(
        prog=PROG,
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", required=True, title="commands")
    for add in (
        _add_status,
        _add_start,
        _add_shift,
        _add_abort,
        _add_run,
        _add_promote,
        _add_rollback,
        _add_finish,
        _add_verify,
        _add_check,
    ):
        add(sub)
    return parser


#: The subcommands that edit the stack file: one at a time per stack (:mod:`.lock`).
STEPS = ("start", "shift", "abort", "run", "promote", "rollback", "finish")


def main(argv: Sequence[str] | None = None, out: Out = print) -> int:
    """Runs one subcommand; returns the exit status."""
    args = build_parser().parse_args(argv)
    try:
        stackfile.stack_file(args.stack)
        if args.command in STEPS:
            command = f"{args.command} --stack {args.stack} --app {args.app}"
            with lock.locked(args.stack, command + (" --apply" if args.apply else ""), out):
                code: int = args.func(args, out)
        else:
            code = args.func(args, out)
    except canary_run.RunInterrupted as err:
        return error_interrupted(str(err))
    except CheckFailed as err:
        return error(str(err), EXIT_CHECK)
    except (ReleaseError, stackfile.StackFileError) as err:
        return error(str(err), EXIT_USAGE)
    except ConfigError as err:
        return error(
            f"the stack file of {args.stack} is refused as it is now ({err}); fix it, then run "
            "the command again",
            EXIT_USAGE,
        )
    return code


if __name__ == "__main__":
    run(main, "see the stack file and `pulumi stack` for what was done")

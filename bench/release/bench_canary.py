"""What a canary step costs and changes: the resources `shift` and `abort` update on dev (kubia)
and prod (imageview), measured from run_step's own diff (:func:`infra.release.run.show`: both
renders of the real program, compared resource by resource), which of them pulumi-kubernetes
awaits, the tool's own overhead per step (plan + render before/after + diff), and the time to
100 % of the default plan from its pauses, analysis window and the metrics' delay.

    .venv/bin/python bench/release/bench_canary.py [--runs 5]

The stack files are copies (prod's secrets set to placeholders, as the release tests do); a
release is started on each before it is measured, as `shift` requires.
"""

from __future__ import annotations

import argparse
import functools
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import infra.paths
from infra.canary import metrics
from infra.config import canary as canary_config
from infra.paths import ROOT
from infra.release.changes import Change
from infra.release.run import show
from infra.release.shift import plan_abort, plan_shift
from infra.release.start import plan_start
from infra.release.steps import Step
from tests.infra.release.harness import SECURE, outputs, up

CANARIES = {"dev": "kubia", "prod": "imageview"}
#: The kinds pulumi-kubernetes has built-in await logic for (provider/pkg/await/awaiters.go,
#: ``awaiters``, at the provider version this project builds); any other kind is awaited only
#: with ``pulumi.com/waitFor`` or PULUMI_K8S_AWAIT_ALL=true (pkg/metadata/overrides.go
#: ``ReadyCondition``: otherwise ``condition.NewImmediate``).
AWAITED = {"DaemonSet", "Deployment", "StatefulSet", "Job", "PersistentVolume"}
AWAITED |= {"PersistentVolumeClaim", "Pod", "ReplicationController", "ResourceQuota"}
AWAITED |= {"Secret", "Service", "ServiceAccount", "Ingress"}


def _project(folder: Path) -> Path:
    (folder / "stacks").mkdir()
    shutil.copy(ROOT / "Pulumi.yaml", folder / "Pulumi.yaml")
    for stack in CANARIES:
        shutil.copy(ROOT / f"stacks/Pulumi.{stack}.yaml", folder / f"stacks/Pulumi.{stack}.yaml")
    prod = folder / "stacks/Pulumi.prod.yaml"
    prod.write_text(
        prod.read_text()
        + "  gke-bluegreen:secrets:\n    imageview:\n"
        + "".join(f"      {k}:\n        secure: {v['secure']}\n" for k, v in SECURE.items())
    )
    infra.paths.PROJECT_FILE = folder / "Pulumi.yaml"
    return folder


def _timed(step: Callable[[], Step], runs: int) -> tuple[list[float], list[Change]]:
    """Plans and shows ``step`` ``runs`` times: the seconds each took, and its changes."""
    times: list[float] = []
    changes: list[Change] = []
    for _ in range(runs):
        t = time.perf_counter()
        changes, refusals = show(step())
        times.append(time.perf_counter() - t)
        assert not refusals, refusals
    return times, changes


def measure(runs: int) -> None:
    print(
        "| stack | step | what `pulumi up` changes (run_step's diff) | awaited by "
        "pulumi-kubernetes | tool overhead: plan + 2 renders + diff (min / median of "
        f"{runs}) |"
    )
    print("|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as d:
        project = _project(Path(d))
        for stack, app in CANARIES.items():
            sets = [f"apps.{app}.colors.green.env.RELEASE=2"]
            step = plan_start(stack, app, outputs(up(project, stack)), sets=sets)
            show(step)
            step.file.write()
            deployed = outputs(up(project, stack))
            steps: dict[str, Callable[[], Step]] = {
                "shift": functools.partial(plan_shift, stack, app, None, deployed),
                "abort": functools.partial(plan_abort, stack, app, deployed),
            }
            for name, plan in steps.items():
                times, changes = _timed(plan, runs)
                shown = ", ".join(f"{c.how} {c.kind} {c.name}" for c in changes)
                awaited = [c for c in changes if c.kind in AWAITED]
                print(
                    f"| {stack} | {name} | {len(changes)}: {shown} | {len(awaited)} | "
                    f"{min(times):.2f} / {statistics.median(times):.2f} s |"
                )
                if name == "shift":
                    plan().file.write()  # the abort is measured from a candidate at 5 %


def time_to_full() -> None:
    plan = canary_config.DEFAULT_PLAN
    pause = canary_config.DEFAULT_PAUSE_SECONDS
    window = int(canary_config.ANALYSIS_DEFAULTS["windowSeconds"])
    print()
    print("| load balancer | metrics delay | hold per step | steps below 100 | time to 100 % |")
    print("|---|---|---|---|---|")
    for lb in metrics.LOAD_BALANCERS.values():
        first = lb.visible_after_s + metrics.MIN_ALIGNMENT_S
        hold = max(pause, first, window)
        steps = len(plan) - 1
        print(
            f"| {lb.gateway_class} | {lb.visible_after_s} s | max(pause {pause}, delay + 60) = "
            f"{hold} s | {steps} | {steps * hold} s + {steps + 1} route/split waits |"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    runs = parser.parse_args().runs
    measure(runs)
    time_to_full()


if __name__ == "__main__":
    main()

"""Cold-process evaluation time of each stack, and the program suite's wall and CPU time.

A cold process is what `pulumi preview` pays on every run: start Python, import pulumi and the
providers' SDKs, read config, register every resource. Measured with the offline render (the real
program under mocks), N fresh processes per stack; then the program's test suite end to end
(every test that runs the program under the mocks: tests/infra, tests/stacks, tests/test_layers.py).
The suite's CPU time (user + system, its child processes included) moves less than its wall time
when other jobs share the machine.

    .venv/bin/python bench/program/bench_program.py [--runs 5]
"""

from __future__ import annotations

import argparse
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
STACKS = ["imageview", "dev", "prod", "local"]
#: The program's suite: everything that runs the program under the mocks.
SUITE = ["tests/infra", "tests/stacks", "tests/test_layers.py"]
#: Of it, the tests of the CLI tools built on the program (whole release sequences, the doctor and
#: render CLIs, the tools' shared error line and Ctrl-C in fresh processes): each runs the program
#: many times or starts Python anew.
TOOL_TESTS = [
    "tests/infra/release",
    "tests/infra/doctor",
    "tests/infra/offline/test_render.py",
    "tests/infra/test_cli.py",
]


#: One process renders each stack once to warm up, then ``runs`` times more: what a render costs a
#: test (the SDKs imported, the stack file read).
WARM = """
import statistics, sys, time
from infra.offline import program, stackfile
runs, stacks = int(sys.argv[1]), sys.argv[2:]
for stack in stacks:
    config = stackfile.merged(stack, (), ())
    program.run(config)
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        render = program.run(config)
        times.append(time.perf_counter() - start)
    print(
        f"| render `{stack}` in a warm process ({len(render.resources)} resources) | "
        f"{statistics.median(times):.2f} | {min(times):.2f} | {max(times):.2f} | {runs} |"
    )
"""


def timed(cmd: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, cwd=ROOT, check=True, capture_output=True)
    return time.perf_counter() - start


def suite(cmd: list[str]) -> tuple[float, float, str]:
    """Wall time, CPU time (user + system of the run and every process it waited for) and
    pytest's summary line."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(cmd, cwd=ROOT, check=True, capture_output=True, text=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
    return wall, cpu, done.stdout.strip().splitlines()[-1]


def row(label: str, values: list[float]) -> str:
    return (
        f"| {label} | {statistics.median(values):.2f} | {min(values):.2f} | "
        f"{max(values):.2f} | {len(values)} |"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    print("| what | median s | min s | max s | runs |")
    print("|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        for stack in STACKS:
            cmd = [
                sys.executable,
                "-m",
                "infra.offline.render",
                "--stack",
                stack,
                "--out",
                f"{tmp}/{stack}",
            ]
            print(row(f"evaluate `{stack}` (cold process)", [timed(cmd) for _ in range(args.runs)]))
        imports = [
            timed(
                [
                    sys.executable,
                    "-c",
                    "import pulumi, pulumi_gcp, pulumi_kubernetes, pulumi_docker",
                ]
            )
            for _ in range(args.runs)
        ]
        print(row("of which: import the Pulumi SDKs", imports))
    warm = subprocess.run(
        [sys.executable, "-c", WARM, str(args.runs), *STACKS],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    print(warm, end="")
    pytest = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *SUITE]
    without_tools = [a for t in TOOL_TESTS for a in ("--ignore", t)]
    for label, cmd in (
        (f"`pytest {' '.join(SUITE)}`", pytest),
        (
            "the same without the CLI tools' tests (release, doctor, render, cli)",
            pytest + without_tools,
        ),
    ):
        runs = [suite(cmd) for _ in range(max(2, args.runs // 2))]
        summary = runs[-1][2].split(" in ")[0]
        print(row(f"{label}: wall time ({summary})", [wall for wall, _, _ in runs]))
        print(row(f"{label}: CPU time, user + system", [cpu for _, cpu, _ in runs]))


if __name__ == "__main__":
    main()

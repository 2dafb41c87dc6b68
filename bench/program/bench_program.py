"""Cold-process evaluation time of each stack, and the program suite's wall time.

A cold process is what `pulumi preview` pays on every run: start Python, import pulumi and the
providers' SDKs, read config, register every resource. Measured with the offline render (the real
program under mocks), N fresh processes per stack; then the program's test suite end to end
(every test that runs the program under the mocks: tests/infra, tests/stacks, tests/test_layers.py).

    .venv/bin/python bench/program/bench_program.py [--runs 5]
"""

from __future__ import annotations

import argparse
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
#: render CLIs in fresh processes): each runs the program many times or starts Python anew.
TOOL_TESTS = [
    "tests/infra/test_release.py",
    "tests/infra/doctor",
    "tests/infra/offline/test_render.py",
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
            times = [timed(cmd) for _ in range(args.runs)]
            print(
                f"| evaluate `{stack}` (cold process) | {statistics.median(times):.2f} | "
                f"{min(times):.2f} | {max(times):.2f} | {args.runs} |"
            )
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
        print(
            f"| of which: import the Pulumi SDKs | {statistics.median(imports):.2f} | "
            f"{min(imports):.2f} | {max(imports):.2f} | {args.runs} |"
        )
    warm = subprocess.run(
        [sys.executable, "-c", WARM, str(args.runs), *STACKS],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    print(warm, end="")
    pytest = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *SUITE]
    without_tools = [a for t in TOOL_TESTS for a in ("--deselect", t)]
    for label, cmd in (
        (f"`pytest {' '.join(SUITE)}` wall time", pytest),
        ("the same without the CLI tools' tests (release, doctor, render)", pytest + without_tools),
    ):
        suite = [timed(cmd) for _ in range(max(1, args.runs // 2))]
        print(
            f"| {label} | {statistics.median(suite):.2f} | "
            f"{min(suite):.2f} | {max(suite):.2f} | {len(suite)} |"
        )


if __name__ == "__main__":
    main()

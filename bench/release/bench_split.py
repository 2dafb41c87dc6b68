"""The split check's own cost: how many answers a weight needs at a tolerance and confidence
(computed, :func:`infra.canary.stats.answers_needed`), and what the check made and took when run
for real on loopback — the Gateway stand-in of the tests splitting by weight between two minimal
apps that answer ``X-Color`` — so the time is the tool's (one HTTP/1.1 request per answer, a
fresh connection each, as through a load balancer), not the network's.

    .venv/bin/python bench/release/bench_split.py [--runs 3]

Through a real load balancer each answer costs its round trip on top: multiply the answers by it.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from infra.canary import stats
from infra.canary.split import SplitCheck, check_split
from tests.infra.canary.stubs import ColorServer, GatewayStandIn

#: Weight and tolerance pairs the check takes: a band that reaches 0 % would pass a split that
#: never moved, so weight 5 is measured at ±2.5 (what `run` uses after 0) and ±2.
CASES = [
    (weight, tolerance, confidence)
    for confidence in (0.99, 0.95)
    for tolerance in (0.10, 0.05, 0.025, 0.02)
    for weight in (5, 25, 50)
    if 100 * tolerance < weight
    and (tolerance != 0.025 or weight == 5)
    and not (tolerance == 0.02 and confidence == 0.95)
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    runs = parser.parse_args().runs
    blue, green = ColorServer("blue"), ColorServer("green")
    print(
        "| weight % | ± | confidence | answers needed (computed) | answers made (median) | "
        "requests (median) | seconds (median) | ms per request |"
    )
    print("|---|---|---|---|---|---|---|---|")
    try:
        for weight, tolerance, confidence in CASES:
            needed = stats.answers_needed(weight / 100, tolerance, confidence)
            made, requests, seconds = [], [], []
            for seed in range(runs):
                gw = GatewayStandIn(
                    {"blue": blue.url, "green": green.url},
                    {"blue": 100 - weight, "green": weight},
                    seed=seed,
                )
                try:
                    check = SplitCheck(
                        gw.url + "/", "green", "blue", weight, tolerance, confidence, 120.0
                    )
                    began = time.perf_counter()
                    result = check_split(check)
                    seconds.append(time.perf_counter() - began)
                finally:
                    gw.close()
                made.append(result.round.colored)
                requests.append(result.requests)
            med_s = statistics.median(seconds)
            med_r = statistics.median(requests)
            print(
                f"| {weight} | {100 * tolerance:g} | {100 * confidence:g} % | {needed} | "
                f"{statistics.median(made):.0f} | {med_r:.0f} | {med_s:.2f} | "
                f"{1000 * med_s / med_r:.2f} |"
            )
    finally:
        blue.close()
        green.close()


if __name__ == "__main__":
    main()

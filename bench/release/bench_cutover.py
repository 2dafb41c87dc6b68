"""What stands between `promote` and the live Service selecting the new color, as the program
orders it: the chain of resources `pulumi up` must update, one after the other, before the live
Service's selector moves (each is an await: pulumi-kubernetes waits for a Deployment's rollout,
a Job's completion, a Service's endpoints), and what follows the switch.

Computed from two offline renders of a tree (the stack, and the stack with activeColor flipped):
a resource is on the path when its inputs change and the live Service depends on it, directly
or through other changed resources. Run it on this tree and on an older checkout to compare:

    .venv/bin/python bench/release/bench_cutover.py [--tree DIR] [--stack S] [--app A]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]


def render(tree: Path, stack: str, sets: list[str], out: Path) -> dict[str, Any]:
    module = (
        "infra.offline.render" if (tree / "infra/offline/render.py").exists() else "infra.render"
    )
    cmd = [sys.executable, "-m", module, "--stack", stack, "--out", str(out)]
    for s in sets:
        cmd += ["--set", s]
    subprocess.run(cmd, cwd=tree, check=True, capture_output=True, timeout=300)
    return json.loads((out / "resources.json").read_text())  # type: ignore[no-any-return]


def chain(
    before: dict[str, Any], after: dict[str, Any], live_name: str
) -> tuple[list[str], list[str]]:
    """(changed resources the live Service waits for, in order; changed resources after it)."""
    old = {r["urn"]: r for r in before["resources"]}
    new = {r["urn"]: r for r in after["resources"]}
    changed = {u for u, r in new.items() if u not in old or old[u]["inputs"] != r["inputs"]}
    (live,) = [u for u in new if u.endswith(f"::{live_name}") and "core/v1:Service" in u]

    def depth(urn: str, seen: frozenset[str] = frozenset()) -> list[str]:
        best: list[str] = []
        for dep in new[urn]["dependencies"]:
            if dep in seen or dep not in new:
                continue
            path = depth(dep, seen | {urn})
            if dep in changed:
                path = [*path, dep]
            if len(path) > len(best):
                best = path
        return best

    before_switch = [*depth(live), live] if live in changed else depth(live)
    after_switch = [
        u
        for u in changed
        if live in new[u]["dependencies"]
        or any(live in new.get(d, {}).get("dependencies", []) for d in new[u]["dependencies"])
    ]
    short = lambda u: u.split("::")[-1] + " (" + u.split("::")[-2].split("$")[-1] + ")"  # noqa: E731
    return [short(u) for u in before_switch], sorted(short(u) for u in after_switch)


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--tree", type=Path, default=ROOT)
    p.add_argument("--stack", default="imageview")
    p.add_argument("--app", default="imageview")
    p.add_argument("--flip", default="green")
    a = p.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        before = render(a.tree, a.stack, [], Path(tmp) / "before")
        after = render(a.tree, a.stack, [f"apps.{a.app}.activeColor={a.flip}"], Path(tmp) / "after")
    path, following = chain(before, after, f"{a.app}-live")
    print(f"{a.tree}: {a.stack}/{a.app} promote to {a.flip}")
    print(f"  sequential awaits until the live Service selects {a.flip}: {len(path)}")
    for step in path:
        print(f"    {step}")
    print(f"  after the switch: {', '.join(following) or '(nothing)'}")
    delays = [
        r
        for r in after["resources"]
        if "ScaleDownDelay" in r["type"] and r["name"] == f"{a.app}-scale-down-delay"
    ]
    for r in delays:
        print(f"  pause before the old color scales down: {r['inputs'].get('seconds', 0)} s")


if __name__ == "__main__":
    main()

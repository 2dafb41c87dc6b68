"""Adds the resources a change introduces to tests/stacks/urns/<stack>.json, so the reviewer sees
them in the diff. It never removes one: a URN that disappears is a live object deleted or replaced,
and taking it out of a snapshot is a decision to make by hand.

    .venv/bin/python -m tests.stacks.update_urns
"""

from __future__ import annotations

import json
from pathlib import Path

from infra.offline import program, stackfile

SNAPSHOTS = Path(__file__).parent / "urns"


def main() -> None:
    for stack in stackfile.stack_names():
        file = SNAPSHOTS / f"{stack}.json"
        rows = json.loads(file.read_text()) if file.exists() else []
        known = {r["urn"] for r in rows}
        render = program.run(stackfile.merged(stack))
        added = [
            {"urn": r.urn, "type": r.type, "name": r.name, "parent": r.parent}
            for r in render.resources
            if r.urn not in known
        ]
        rows = sorted(rows + added, key=lambda r: r["urn"])
        file.write_text(json.dumps(rows, indent=1) + "\n")
        print(f"{stack}: {len(added)} added, {len(rows)} in all")


if __name__ == "__main__":
    main()

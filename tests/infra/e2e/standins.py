"""Stand-ins for what the e2e driver needs from a real cluster, small enough to read:

* a copy of the project (its stack files are the ones the steps edit);
* ``pulumi``: ``stack output --json`` prints the stack's outputs, ``stack export`` a state with
  each color's last smoke Job when it failed; ``up`` deploys the stack file
  onto a model cluster: each color's Deployment rolls (its generation grows) when its env or
  image changes, and then runs a smoke Job, which fails for a color whose env holds
  ``$STANDIN_SMOKE_FAILS_WITH``; a failed smoke Job fails the update before the live Service
  moves, as the program's dependency on the Job makes it do. ``$STANDIN_OUTAGE_SECONDS`` makes
  the live URL answer 503 for that long after each update (a switch that drops requests);
* ``kubectl get service|deployments|jobs ... -o json`` answers from the model;
  ``$STANDIN_KUBECTL_SAYS`` makes it report that color for every Service (a stale view);
* the live URL: an HTTP server on 127.0.0.1 answering as the color the live Service selects.

The model is one JSON file (``$STANDIN_STATE``), replaced whole on each write.

Run as a script (``python standins.py pulumi|kubectl ARGS``) it is the CLI stand-in; it then
imports nothing of the project.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import yaml

COLORS = ("blue", "green")
#: Where the stand-in CLIs find the model.
STATE = "STANDIN_STATE"


# --------------------------------------------------------------------------- the model


def load_state(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text())
    return data


def save_state(path: Path, state: dict[str, Any]) -> None:
    scratch = path.with_suffix(".tmp")
    scratch.write_text(json.dumps(state, indent=1, sort_keys=True))
    os.replace(scratch, path)


def _apps(project: Path, stack: str) -> dict[str, Any]:
    document = yaml.safe_load((project / "stacks" / f"Pulumi.{stack}.yaml").read_text())
    apps: dict[str, Any] = document["config"]["gke-bluegreen:apps"]
    return apps


def _spec(node: dict[str, Any], color: str, images: dict[str, str]) -> dict[str, Any]:
    """What a color's Deployment runs: its env (the app's, then the color's) and image."""
    colored = (node.get("colors") or {}).get(color) or {}
    env = {**(node.get("env") or {}), **(colored.get("env") or {})}
    return {
        "env": {k: str(v) for k, v in env.items()},
        "image": colored.get("image") or images[color],
    }


def initial_state(
    project: Path, stack: str, outputs: dict[str, Any], url: str, app: str
) -> dict[str, Any]:
    """The model after a first `pulumi up` of the stack: ``outputs`` (an offline render's, the
    live URL of ``app`` set to ``url``), every color deployed once."""
    outputs = json.loads(json.dumps(outputs))
    outputs["apps"][app]["url"] = url
    state: dict[str, Any] = {"outputs": outputs, "services": {}, "deployments": {}, "jobs": []}
    for name, node in _apps(project, stack).items():
        images = outputs["apps"][name]["images"]
        service = (node.get("service") or {}).get("name") or name
        state["services"][service] = {"app": name, "color": node.get("activeColor", "blue")}
        state["deployments"][name] = {
            c: {"generation": 1, "spec": _spec(node, c, images)} for c in COLORS
        }
    state["outage_until"] = 0.0
    return state


def pulumi_up(project: Path, stack: str, state: dict[str, Any], env: dict[str, str]) -> str | None:
    """Deploys the stack file onto the model; the error, or None."""
    fails_with = env.get("STANDIN_SMOKE_FAILS_WITH", "")
    failed = []
    for name, node in _apps(project, stack).items():
        images = state["outputs"]["apps"][name]["images"]
        for color in COLORS:
            spec = _spec(node, color, images)
            deployment = state["deployments"][name][color]
            if deployment["spec"] == spec:
                continue
            deployment["spec"] = spec
            deployment["generation"] += 1
            failing = bool(fails_with) and fails_with in spec["env"]
            state["jobs"].append({"app": name, "color": color, "failed": failing})
            if failing:
                failed.append(f"Job {name}-smoke-{color} failed (BackoffLimitExceeded)")
    outage = float(env.get("STANDIN_OUTAGE_SECONDS") or 0)
    if outage:
        state["outage_until"] = time.time() + outage
    if failed:
        return "; ".join(failed)
    for name, node in _apps(project, stack).items():
        live = node.get("activeColor", "blue")
        service = (node.get("service") or {}).get("name") or name
        state["services"][service]["color"] = live
        entry = state["outputs"]["apps"][name]
        entry["active_color"] = live
        for color in COLORS:
            entry["images"][color] = state["deployments"][name][color]["spec"]["image"]
    return None


# --------------------------------------------------------------------------- the CLI stand-ins


def _option(argv: list[str], name: str) -> str | None:
    if name in argv and argv.index(name) + 1 < len(argv):
        return argv[argv.index(name) + 1]
    return None


def fake_pulumi(argv: list[str]) -> int:
    path = Path(os.environ[STATE])
    state = load_state(path)
    stack = _option(argv, "--stack")
    if argv[:1] == ["version"]:
        print("v3.272.0")
        return 0
    if argv[:3] == ["stack", "output", "--json"] and stack:
        print(json.dumps(state["outputs"], indent=2))
        return 0
    if argv[:2] == ["stack", "export"] and stack:
        print(json.dumps(_export(stack, state)))
        return 0
    if argv[:1] == ["up"] and stack and "--yes" in argv:
        problem = pulumi_up(Path.cwd(), stack, state, dict(os.environ))
        save_state(path, state)
        if problem:
            print(f"error: update failed: {problem}", file=sys.stderr)
            return 255
        print(f"Update succeeded: {_option(argv, '--message')}")
        return 0
    print(f"error: the stand-in pulumi does not do {' '.join(argv)}", file=sys.stderr)
    return 2


def _export(stack: str, state: dict[str, Any]) -> dict[str, Any]:
    """The stack's state as ``pulumi stack export`` prints it, holding what the release tool
    reads there: each color's last smoke Job when it failed, with the engine's ``initErrors``."""
    last = {(job["app"], job["color"]): job for job in state["jobs"]}
    resources = [
        {
            "urn": f"urn:pulumi:{stack}::gke-bluegreen::gke-bluegreen:infra:BlueGreenApp"
            f"$kubernetes:batch/v1:Job::{app}-smoke-{color}",
            "type": "kubernetes:batch/v1:Job",
            "outputs": {"metadata": {"name": f"{app}-smoke-{color}-0123abcd"}},
            "initErrors": ["[BackoffLimitExceeded] Job has reached the specified backoff limit"],
        }
        for (app, color), job in last.items()
        if job["failed"]
    ]
    return {"version": 3, "deployment": {"manifest": {}, "resources": resources}}


def _labels(argv: list[str]) -> dict[str, str]:
    text = _option(argv, "--selector") or ""
    return dict(pair.split("=", 1) for pair in text.split(",") if pair)


def fake_kubectl(argv: list[str]) -> int:
    state = load_state(Path(os.environ[STATE]))
    for flag in ("--context", "--namespace"):
        if flag in argv:
            at = argv.index(flag)
            del argv[at : at + 2]
    if argv[:2] == ["get", "service"] and argv[-2:] == ["-o", "json"]:
        service = state["services"].get(argv[2])
        if service is None:
            print(f'Error from server (NotFound): services "{argv[2]}" not found', file=sys.stderr)
            return 1
        color = os.environ.get("STANDIN_KUBECTL_SAYS") or service["color"]
        print(json.dumps({"spec": {"selector": {"app": service["app"], "color": color}}}))
        return 0
    labels = _labels(argv)
    if argv[:2] == ["get", "deployments"]:
        colors = state["deployments"].get(labels.get("app"), {})
        found = [colors[c] for c in colors if c == labels.get("color")]
        items = [
            {"metadata": {"generation": d["generation"]}, "spec": {"template": d["spec"]}}
            for d in found
        ]
        print(json.dumps({"items": items}))
        return 0
    if argv[:2] == ["get", "jobs"]:
        jobs = [
            j
            for j in state["jobs"]
            if j["app"] == labels.get("app") and j["color"] == labels.get("target-color")
        ]
        items = [
            {
                "metadata": {"name": f"{j['app']}-smoke-{j['color']}-{n}"},
                "status": {"failed": 1} if j["failed"] else {"succeeded": 1},
            }
            for n, j in enumerate(jobs)
        ]
        print(json.dumps({"items": items}))
        return 0
    print(f"error: the stand-in kubectl does not do {' '.join(argv)}", file=sys.stderr)
    return 1


# --------------------------------------------------------------------------- for the tests


def copy_project(root: Path, into: Path) -> Path:
    """The program, its apps and stack files, copied: the driver and the release tool run from
    here, so the steps edit these stack files and never the repository's."""
    project = into / "project"
    ignore = shutil.ignore_patterns("__pycache__", "node_modules", ".build")
    for folder in ("infra", "apps", "stacks"):
        shutil.copytree(root / folder, project / folder, ignore=ignore)
    for file in ("Pulumi.yaml", "__main__.py"):
        shutil.copy(root / file, project / file)
    return project


def install_clis(folder: Path) -> dict[str, str]:
    """``pulumi`` and ``kubectl`` stand-ins in ``folder``; the environment naming them."""
    folder.mkdir(parents=True, exist_ok=True)
    script = Path(__file__).resolve()
    env = {}
    for cli in ("pulumi", "kubectl"):
        path = folder / cli
        path.write_text(f'#!/bin/sh\nexec "{sys.executable}" "{script}" {cli} "$@"\n')
        path.chmod(0o755)
        env[cli.upper()] = str(path)
    return env


@contextmanager
def live_url(state: Path, service: str) -> Iterator[str]:
    """The app's public URL: 200 "you've hit <app>-<color>" on / from the color the live
    Service selects, 503 during an outage; on 127.0.0.1."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            model = load_state(state)
            selected = model["services"][service]
            if time.time() < model["outage_until"]:
                status, body = 503, "switching\n"
            elif self.path == "/":
                status, body = 200, f"you've hit {selected['app']}-{selected['color']}\n"
            else:
                status, body = 404, "not found\n"
            data = body.encode()
            self.send_response(status)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


if __name__ == "__main__":
    tool = {"pulumi": fake_pulumi, "kubectl": fake_kubectl}[sys.argv[1]]
    sys.exit(tool(sys.argv[2:]))

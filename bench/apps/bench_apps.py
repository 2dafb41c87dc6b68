"""Benchmarks of the apps in apps/; prints the markdown tables of bench/README.md "## Apps".

  .venv/bin/python bench/apps/bench_apps.py [--duration 10] [--rounds 2] [--skip-images]

1. Throughput and p99 latency: wrk (1 thread, 50 connections, --duration s) against each app
   and, in the same run and interleaved with it, a bare hello-world server of the same runtime
   (bench/apps/bare_hello.{py,js}); the ratio app/bare is the goal metric (>= 0.9). Each server
   runs as a process on loopback with stdout to a file, as a container's would go to a pipe.
   App and bare runs are paired and alternated, best of --rounds each, to damp noise from other
   work on the machine; the server's CPU time per request is shown too, being less sensitive to
   that noise. imageview's bare server answers a body as large as imageview's page.
2. Shutdown under load: SIGTERM while wrk drives 50 connections; time until the process exits.
3. Images (needs the Docker engine and scripts/images/build-bases.sh): size of each app image on
   the local Debian base, the size its own layers add, a cold build (--no-cache) and an app-only
   rebuild (one source file changed, cache warm).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
APPS = ROOT / "apps"
BENCH = Path(__file__).resolve().parent
PY = str(ROOT / ".venv/bin/python") if (ROOT / ".venv/bin/python").exists() else sys.executable

# name -> (argv, cwd, runtime); the Node apps run from apps/ like their image CMD from /app
SERVERS = {
    "py-web-server": ([PY, "web_server.py"], APPS / "py-web-server", "python"),
    "node-app": (["node", "node-app/app.js"], APPS, "node"),
    "kubia": (["node", "kubia/app.js"], APPS, "node"),
    "imageview-blue": (["node", "lib/imageview/app.js", "imageview/blue/color.json"], APPS, "node"),
    "imageview-green": (
        ["node", "lib/imageview/app.js", "imageview/green/color.json"],
        APPS,
        "node",
    ),
}
BARE = {
    "python": ([PY, str(BENCH / "bare_hello.py")], BENCH),
    "node": (["node", str(BENCH / "bare_hello.js")], BENCH),
}
# name -> (source folder, local base image, the file under apps/ an app-only edit touches);
# every image is built with the context apps/ and -f <source>/Dockerfile, as the program does.
IMAGES = {
    "py-web-server": (
        "py-web-server",
        "gkebg-local/python:bookworm",
        "py-web-server/web_server.py",
    ),
    "node-app": ("node-app", "gkebg-local/node:bookworm", "node-app/app.js"),
    "kubia": ("kubia", "gkebg-local/node:bookworm", "kubia/app.js"),
    "imageview-blue": ("imageview/blue", "gkebg-local/node:bookworm", "lib/imageview/app.js"),
    "imageview-green": ("imageview/green", "gkebg-local/node:bookworm", "lib/imageview/app.js"),
}


class Server:
    """A server process on a free loopback port, stdout to a temporary file."""

    def __init__(self, argv: list[str], cwd: Path, **env: str) -> None:
        self.log = tempfile.NamedTemporaryFile("w+", suffix=".log")  # noqa: SIM115
        env = {"PATH": os.environ["PATH"], "PORT": "0", "PROJECT_ID": "p", "SECRET_ID": "s", **env}
        self.proc = subprocess.Popen(argv, cwd=cwd, env=env, stdout=self.log, stderr=self.log)
        deadline = time.monotonic() + 10
        while True:
            match = re.search(r"listening on port (\d+)", Path(self.log.name).read_text())
            if match:
                self.port = int(match.group(1))
                return
            if time.monotonic() > deadline or self.proc.poll() is not None:
                raise RuntimeError(f"{argv} did not start: {Path(self.log.name).read_text()}")
            time.sleep(0.05)

    def cpu_seconds(self) -> float:
        """User + system CPU time the server process has used so far."""
        fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        self.log.close()


@dataclass
class Run:
    """One wrk run: requests/s, p99 latency (ms), server CPU per request (µs)."""

    rps: float
    p99_ms: float
    cpu_us: float


def wrk(server: Server, seconds: float) -> Run:
    """One wrk run (1 thread, 50 connections) against GET / of a server on loopback."""
    cpu_before = server.cpu_seconds()
    out = subprocess.run(
        ["wrk", "-t1", "-c50", f"-d{seconds:g}s", "--latency", f"http://127.0.0.1:{server.port}/"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    cpu = server.cpu_seconds() - cpu_before
    if "Non-2xx" in out or "Socket errors" in out:
        raise RuntimeError(f"wrk saw errors against port {server.port}:\n{out}")
    requests = int(re.search(r"(\d+) requests in", out).group(1))
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    value, unit = re.search(r"99%\s+([\d.]+)(us|ms|s)", out).groups()
    p99 = float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]
    return Run(rps, p99, cpu / requests * 1e6)


def measure(argv: list[str], cwd: Path, seconds: float, **env: str) -> Run:
    server = Server(argv, cwd, **env)
    try:
        wrk(server, 1)  # warm-up: JIT, caches, TCP
        return wrk(server, seconds)
    finally:
        server.close()


def page_bytes() -> int:
    """Size of imageview's page, for a bare server that answers as many bytes."""
    argv, cwd, _ = SERVERS["imageview-blue"]
    server = Server(argv, cwd)
    try:
        out = subprocess.run(
            ["curl", "-s", f"http://127.0.0.1:{server.port}/"], capture_output=True, check=True
        ).stdout
        return len(out)
    finally:
        server.close()


def throughput(seconds: float, rounds: int) -> None:
    """Each app against its own bare runs, paired and alternated so both see the same load;
    the best of --rounds of each is kept (the least disturbed run)."""
    page = page_bytes()
    rows = []
    for name, (argv, cwd, runtime) in SERVERS.items():
        bare_argv, bare_cwd = BARE[runtime]
        bare_env = {"BODY_BYTES": str(page)} if name.startswith("imageview") else {}
        apps: list[Run] = []
        bares: list[Run] = []
        for round_ in range(rounds):
            pair = [("app", argv, cwd, {}), ("bare", bare_argv, bare_cwd, bare_env)]
            for kind, a, c, env in pair if round_ % 2 == 0 else reversed(pair):
                (apps if kind == "app" else bares).append(measure(a, c, seconds, **env))
        rows.append((name, runtime, max(apps, key=lambda r: r.rps), max(bares, key=lambda r: r.rps),
                     bool(bare_env)))  # fmt: skip
    print(
        "| app | runtime | req/s | p99 ms | CPU µs/req | bare req/s | bare p99 ms "
        "| bare CPU µs/req | app/bare req/s |\n|---|---|---|---|---|---|---|---|---|"
    )
    for name, runtime, app, bare, sized in rows:
        label = f"{name} (bare answers {page} B too)" if sized else name
        print(
            f"| {label} | {runtime} | {app.rps:,.0f} | {app.p99_ms:.2f} | {app.cpu_us:.1f} "
            f"| {bare.rps:,.0f} | {bare.p99_ms:.2f} | {bare.cpu_us:.1f} "
            f"| {app.rps / bare.rps:.2f}x |"
        )


def shutdown_under_load() -> None:
    print("\n| app | SIGTERM to exit under 50-connection load, ms | how |\n|---|---|---|")
    for name, (argv, cwd, _) in SERVERS.items():
        server = Server(argv, cwd)
        try:
            load = subprocess.Popen(
                ["wrk", "-t1", "-c50", "-d4s", f"http://127.0.0.1:{server.port}/"],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            time.sleep(1.5)
            started = time.monotonic()
            server.proc.send_signal(signal.SIGTERM)
            code = server.proc.wait(timeout=10)
            elapsed = (time.monotonic() - started) * 1000
            load.wait()
            how = re.search(r"stopped \((\w+)\)", Path(server.log.name).read_text())
            print(f"| {name} | {elapsed:.0f} (exit {code}) | {how.group(1) if how else '?'} |")
        finally:
            server.close()


def docker(*args: str) -> str:
    return subprocess.run(["docker", *args], capture_output=True, text=True, check=True).stdout


def buildkit(*args: str) -> None:
    """docker build with BuildKit, which reads the Dockerfile's own Dockerfile.dockerignore."""
    script = ROOT / "scripts/images/docker-build.sh"
    subprocess.run(["bash", str(script), *args], capture_output=True, text=True, check=True)


def images() -> None:
    subprocess.run(["bash", str(ROOT / "scripts/images/build-bases.sh")], check=True)
    dangling_before = set(docker("images", "-q", "--filter", "dangling=true").split())
    print(
        "\n| image (local Debian base) | size MB | own layers MB | cold build s "
        "| app-only rebuild s |"
        "\n|---|---|---|---|---|"
    )
    for name, (source, base, edited) in IMAGES.items():
        tag = f"gkebg-bench/{name}:latest"
        with tempfile.TemporaryDirectory() as tmp:
            ctx = Path(tmp) / "apps"
            shutil.copytree(APPS, ctx)
            build = ["-q", "--network", "host", "--build-arg", f"BASE_IMAGE={base}",
                     "-f", str(ctx / source / "Dockerfile")]  # fmt: skip
            started = time.monotonic()
            buildkit(*build, "--no-cache", "-t", tag, str(ctx))
            cold = time.monotonic() - started
            with (ctx / edited).open("a") as f:
                f.write("\n// app-only edit\n" if edited.endswith(".js") else "\n# app-only edit\n")
            started = time.monotonic()
            buildkit(*build, "-t", tag, str(ctx))
            rebuild = time.monotonic() - started
        size = int(docker("image", "inspect", "-f", "{{.Size}}", tag))
        base_size = int(docker("image", "inspect", "-f", "{{.Size}}", base))
        docker("rmi", tag)
        print(
            f"| {name} | {size / 1e6:.0f} | {(size - base_size) / 1e6:.2f} | {cold:.1f} "
            f"| {rebuild:.1f} |"
        )
    for base in ("gkebg-local/debian:bookworm", "gkebg-local/python:bookworm",
                 "gkebg-local/node:bookworm"):  # fmt: skip
        size = int(docker("image", "inspect", "-f", "{{.Size}}", base))
        print(f"| base {base} | {size / 1e6:.0f} | - | - | - |")
    # The build stages and the images the rebuilds replaced.
    for image_id in (
        set(docker("images", "-q", "--filter", "dangling=true").split()) - dangling_before
    ):
        subprocess.run(["docker", "rmi", image_id], capture_output=True, check=False)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=10, help="seconds per wrk run")
    parser.add_argument("--rounds", type=int, default=3, help="runs per server (best is kept)")
    parser.add_argument("--skip-images", action="store_true", help="no Docker part")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is not installed: apt-get install wrk (scripts/install.d/20-docker.sh)")
    throughput(args.duration, args.rounds)
    shutdown_under_load()
    if not args.skip_images:
        images()


if __name__ == "__main__":
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[attr-defined]
    main()

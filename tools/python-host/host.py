"""Our own Pulumi language host for Python: the engine's ``LanguageRuntime`` gRPC service, so the
real CLI (tools/, 3.274.1) runs this project's program. Pulumi's own host is the Go module
``sdk/python/cmd/pulumi-language-python/v3``, which the module proxy refuses (tools/README.md).

Started by the engine as ``pulumi-language-python [--tracing X] [ENGINE_ADDRESS]`` (the wrapper
scripts/install.d/55-python-host.sh writes into .tools/bin); it prints the port it serves on and
serves until the engine kills it (pulumi/pulumi sdk/python/cmd/pulumi-language-python/main.go
@1b59498, ``main``). ``Run`` starts ``exec.py`` (the port of ``pulumi-language-python-exec``)
with this interpreter: the program runs in the virtualenv the wrapper names, not the one
``runtime.options.virtualenv`` names in the scratch copy the engine is given.

Only what ``pulumi preview/up/refresh/destroy`` call is implemented; code generation, packing,
linking, templates and plugin running answer UNIMPLEMENTED, which the engine only reaches from
other commands (``pulumi convert``, ``package``, ``new``, ``install``)."""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import os
import re
import signal
import subprocess
import sys
import threading
from concurrent import futures
from pathlib import Path
from typing import Any

import grpc
from google.protobuf import empty_pb2
from pulumi.runtime.proto import language_pb2, language_pb2_grpc, plugin_pb2

#: The version this host reports (GetPluginInfo): the SDK it runs the program with.
VERSION = importlib.metadata.version("pulumi")
EXEC = Path(__file__).with_name("exec.py")
#: The exec shim's "I already told the user" exit code: the engine bails without adding a
#: message of its own (main.go @1b59498, ``pythonProcessExitedAfterShowingUserActionableMessage``).
USER_ACTIONABLE_EXIT = 32
#: Distributions that are Pulumi packages without a plugin (main.go @1b59498,
#: ``packagesWithoutPlugins``).
WITHOUT_PLUGINS = {"pulumi-policy", "pulumi-esc-sdk"}
_PEP440 = re.compile(r"^(\d+(?:\.\d+)*)(?:(a|b|rc)(\d+))?(?:\.post(\d+))?(?:\.dev(\d+))?$")


def plugin_version(version: str) -> str | None:
    """A package's PEP 440 version as its plugin's semver, or None where it cannot be derived
    (main.go @1b59498, ``determinePluginVersion``: three segments at least, a/b/rc become
    -alpha./-beta./-rc., .post and .dev become +postN / +devN)."""
    m = _PEP440.match(version)
    if m is None:
        return None
    release, pre, pre_n, post, dev = m.groups()
    parts = release.split(".")
    parts += ["0"] * (3 - len(parts))
    out = ".".join(parts)
    if pre:
        out += "-" + {"a": "alpha", "b": "beta", "rc": "rc"}[pre] + "." + pre_n
    build = (f"post{post}" if post else "") + (f"dev{dev}" if dev else "")
    return out + ("+" + build if build else "")


def required_packages() -> list[plugin_pb2.PackageDependency]:
    """The resource plugins the installed Pulumi packages need: each distribution with a
    ``pulumi-plugin.json`` in its top-level package, or named ``pulumi-*`` (main.go @1b59498,
    ``listPulumiPackageInfos``, ``packageDependencyFromPluginJSON``)."""
    found: dict[str, plugin_pb2.PackageDependency] = {}
    for dist in importlib.metadata.distributions():
        name = (dist.metadata["Name"] or "").lower()
        if not name or name in WITHOUT_PLUGINS:
            continue
        pj: dict[str, Any] | None = None
        module = name.replace("-", "_")
        for f in dist.files or ():
            if f.parts == (module, "pulumi-plugin.json"):
                pj = json.loads(Path(str(dist.locate_file(f))).read_text())
        if pj is None and not name.startswith("pulumi-"):
            continue
        if pj is not None and not pj.get("resource"):
            continue
        pj = pj or {}
        version = pj.get("version") or plugin_version(dist.version)
        if version is None:
            continue
        plugin = pj.get("name") or name.removeprefix("pulumi-")
        found[plugin] = plugin_pb2.PackageDependency(
            name=plugin,
            version=version if version.startswith("v") else "v" + version,
            kind="resource",
            server=pj.get("server", ""),
        )
    return [found[k] for k in sorted(found)]


def run_args(req: language_pb2.RunRequest, engine: str) -> list[str]:
    """The exec shim's command line (main.go @1b59498, ``constructArguments``): empty values
    left out, the entry point, then the program's own arguments."""
    args: list[str] = []
    for key, value in (
        ("monitor", req.monitor_address),
        ("engine", engine),
        ("project", req.project),
        ("root_directory", req.info.root_directory),
        ("stack", req.stack),
        ("pwd", req.pwd),
        ("dry_run", "true" if req.dryRun else "false"),
        ("parallel", str(req.parallel)),
        ("organization", req.organization),
    ):
        if value:
            args += [f"--{key}", value]
    return [*args, req.info.entry_point or ".", *req.args]


class Host(language_pb2_grpc.LanguageRuntimeServicer):
    def __init__(self, engine: str) -> None:
        self.engine = engine
        self.running: set[subprocess.Popen[bytes]] = set()

    def Handshake(self, request: Any, context: Any) -> Any:
        self.engine = request.engine_address
        return language_pb2.LanguageHandshakeResponse()

    def GetPluginInfo(self, request: Any, context: Any) -> Any:
        return plugin_pb2.PluginInfo(version=VERSION)

    def GetRequiredPlugins(self, request: Any, context: Any) -> Any:
        # Upstream answers UNIMPLEMENTED too: the engine asks GetRequiredPackages first.
        context.abort(grpc.StatusCode.UNIMPLEMENTED, "GetRequiredPlugins: use GetRequiredPackages")

    def GetRequiredPackages(self, request: Any, context: Any) -> Any:
        return language_pb2.GetRequiredPackagesResponse(packages=required_packages())

    def InstallDependencies(self, request: Any, context: Any) -> Any:
        # The wrapper's virtualenv is installed by scripts/install.sh; nothing to do, and the
        # response is a stream of (here: no) output chunks.
        return iter(())

    def RuntimeOptionsPrompts(self, request: Any, context: Any) -> Any:
        return language_pb2.RuntimeOptionsResponse()

    def About(self, request: Any, context: Any) -> Any:
        return language_pb2.AboutResponse(executable=sys.executable, version=sys.version.split()[0])

    def GetProgramDependencies(self, request: Any, context: Any) -> Any:
        deps = [
            language_pb2.DependencyInfo(name=d.metadata["Name"], version=d.version)
            for d in importlib.metadata.distributions()
        ]
        return language_pb2.GetProgramDependenciesResponse(dependencies=deps)

    def Run(self, request: Any, context: Any) -> Any:
        env = dict(os.environ)
        # main.go @1b59498, ``constructConfig``/``constructConfigSecretKeys``: JSON in the
        # environment the SDK reads (pulumi.runtime.get_config_env, get_config_secret_keys_env).
        env["PULUMI_CONFIG"] = json.dumps(dict(request.config))
        env["PULUMI_CONFIG_SECRET_KEYS"] = json.dumps(list(request.configSecretKeys))
        cmd = [sys.executable, "-u", str(EXEC), *run_args(request, self.engine)]
        proc = subprocess.Popen(cmd, env=env)  # stdout/stderr: the engine reads ours
        self.running.add(proc)
        try:
            code = proc.wait()
        finally:
            self.running.discard(proc)
        if code == 0:
            return language_pb2.RunResponse()
        if code == USER_ACTIONABLE_EXIT:
            return language_pb2.RunResponse(bail=True)
        if code < 0:
            return language_pb2.RunResponse(error=f"program exited unexpectedly: signal {-code}")
        return language_pb2.RunResponse(error=f"program exited with non-zero exit code: {code}")

    def Cancel(self, request: Any, context: Any) -> Any:
        # main.go @1b59498: Cancel interrupts the running program (SIGINT, as cmd.Cancel does).
        for proc in list(self.running):
            proc.send_signal(signal.SIGINT)
        return empty_pb2.Empty()


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(prog="pulumi-language-python")
    ap.add_argument("--tracing", default="")
    ap.add_argument("--version", action="store_true")
    ap.add_argument("engine", nargs="?", default="")
    ap.add_argument("rest", nargs="*")
    args = ap.parse_args(argv)
    if args.version:
        print(VERSION)
        return 0
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=8))
    language_pb2_grpc.add_LanguageRuntimeServicer_to_server(Host(args.engine), server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    print(port, flush=True)
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    signal.signal(signal.SIGINT, lambda *_: done.set())
    done.wait()
    server.stop(grace=1)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

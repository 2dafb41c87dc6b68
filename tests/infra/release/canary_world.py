"""A canary's world offline, driven by the stand-in ``$PULUMI`` (:mod:`.stand_in`): each good
``pulumi up`` writes the HTTPRoutes the program rendered, and from them

* the Kubernetes API stub (:class:`~tests.infra.canary.stubs.KubeApiStub`) serves the route with
  ``metadata.generation`` raised at every spec change and a status that lags: its parent's
  conditions keep the old ``observedGeneration`` for ``lag_reads`` reads after a change (or for
  ever: ``never_current``);
* the Gateway stand-in (:class:`~tests.infra.canary.stubs.GatewayStandIn`) splits requests between
  two real app processes (``COLOR=blue`` and ``green``) by the route's weights, ``gateway_lag``
  requests after the change (GKE programs the load balancer after the status says Accepted);
* the Monitoring gRPC stub answers per backend, healthy or failing, whatever the window.

:class:`FastClock` fast-forwards the run's sleeps (its pauses, polls and holds) while the HTTP is
real: a whole plan's minutes take seconds.
"""

from __future__ import annotations

import contextlib
import copy
import datetime as dt
import functools
import io
import json
import os
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from infra.canary.metrics import Backend
from infra.paths import ROOT
from infra.release.canary_run import NAMESPACE, Clock
from tests.infra.canary.stubs import BackendData, GatewayStandIn, KubeApiStub, MonitoringStub

HEALTHY = BackendData({200: 1000}, 80.0)
FAILING = BackendData({200: 900, 500: 100}, 90.0)


class FastClock(Clock):
    """Real time plus every second slept, which is not waited."""

    def __init__(self) -> None:
        self.offset = 0.0

    def monotonic(self) -> float:
        return time.monotonic() + self.offset

    def now(self) -> dt.datetime:
        return dt.datetime.now(dt.UTC) + dt.timedelta(seconds=self.offset)

    def sleep(self, seconds: float) -> None:
        self.offset += max(0.0, seconds)


def backend_name(app: str, color: str, port: int) -> str:
    """A backend service name as GKE makes it for a color's Service (the pattern
    :class:`~infra.canary.metrics.Backend` matches)."""
    name = f"gkegw1-ab12-{NAMESPACE}-{app}-{color}-{port}-0123456789ab"
    assert Backend(NAMESPACE, f"{app}-{color}", port).pattern()
    return name


class World:
    """The route of one stack's app as the stand-in's ``up`` left it, served with lag."""

    def __init__(
        self,
        project: Path,
        stack: str,
        route: str,
        kube: KubeApiStub,
        *,
        lag_reads: int = 3,
        gateway_lag: int = 20,
        never_current: bool = False,
    ) -> None:
        self.file = project / f"stand-in-routes-{stack}.json"
        self.key = f"{NAMESPACE}/{route}"
        self.lag_reads, self.gateway_lag, self.never_current = lag_reads, gateway_lag, never_current
        self.kube = kube
        self.gateway: GatewayStandIn | None = None
        self.spec: dict[str, Any] | None = None
        self.manifest: dict[str, Any] = {}
        self.generation = 0
        self.observed = 0
        self.reads_since_change = 0
        self.changes: list[dict[str, int]] = []
        self._lock = threading.Lock()
        kube.routes[(NAMESPACE, route)] = self._read

    def weights(self) -> dict[str, int]:
        assert self.spec is not None
        rule = self.spec["rules"][1]
        return {ref["name"]: ref["weight"] for ref in rule["backendRefs"]}

    def sync(self) -> None:
        """Takes the route the last ``up`` wrote; a new spec is a new generation."""
        with self._lock:
            try:
                manifest = json.loads(self.file.read_text())[self.key]
            except (FileNotFoundError, KeyError, ValueError):
                return
            if manifest["spec"] == self.spec:
                return
            first = self.spec is None
            self.spec, self.manifest = manifest["spec"], manifest
            self.generation += 1
            self.reads_since_change = 0
            if first:
                self.observed = self.generation
            self.changes.append(self.weights())
            if self.gateway is not None:
                self.gateway.set_weights(self.weights(), after_requests=self.gateway_lag)

    def _read(self, _n: int) -> tuple[int, dict[str, Any]]:
        self.sync()
        with self._lock:
            self.reads_since_change += 1
            if not self.never_current and self.reads_since_change > self.lag_reads:
                self.observed = self.generation
            route = copy.deepcopy(self.manifest)
            route["metadata"] = {
                **route["metadata"],
                "namespace": NAMESPACE,
                "generation": self.generation,
            }
            refs = route["spec"]["parentRefs"]
            route["status"] = {"parents": [self._parent(ref) for ref in refs]}
        return 200, route

    def _parent(self, ref: dict[str, Any]) -> dict[str, Any]:
        def condition(kind: str) -> dict[str, Any]:
            return {
                "type": kind,
                "status": "True",
                "reason": kind,
                "message": "",
                "observedGeneration": self.observed,
                "lastTransitionTime": "2026-12-06T10:00:00Z",
            }

        return {
            "parentRef": {**ref, "namespace": NAMESPACE},
            "controllerName": "networking.gke.io/gateway",
            "conditions": [condition("Accepted"), condition("ResolvedRefs")],
        }


class SyncedGateway(GatewayStandIn):
    """The Gateway stand-in, taking the route's weights from the :class:`World` at every
    request."""

    def __init__(self, world: World, upstreams: dict[str, str], weights: dict[str, int]) -> None:
        world.sync()
        super().__init__(upstreams, world.weights() if world.spec is not None else weights)
        self.world = world
        world.gateway = self

    def _pick(self) -> str:
        self.world.sync()
        return super()._pick()


def monitoring_data(
    stub: MonitoringStub, app: str, port: int, blue: BackendData, green: BackendData
) -> None:
    stub.backends = {
        backend_name(app, "blue", port): blue,
        backend_name(app, "green", port): green,
    }


class Scenario:
    """A copy of the project (Pulumi.yaml, the dev stack file) with kubia deployed through the
    stand-in ``$PULUMI``, its two colors running as real processes behind the Gateway stand-in,
    the Kubernetes API and Monitoring stubs, and the fast clock; the environment, the project
    path and the clock are put back on exit. ``failing``: the candidate's (green's) metrics show
    10 % 5xx; ``never_current``: the route's status never reaches a new generation."""

    APP, STACK, PORT = "kubia", "dev", 8080

    def __init__(
        self,
        folder: Path,
        *,
        failing: bool = False,
        never_current: bool = False,
        lag_reads: int = 3,
        gateway_lag: int = 20,
    ) -> None:
        self.folder = folder
        self.failing, self.never_current = failing, never_current
        self.lag_reads, self.gateway_lag = lag_reads, gateway_lag
        self.clock = FastClock()
        self._saved: dict[str, str | None] = {}
        self._closers: list[Callable[[], None]] = []

    def __enter__(self) -> Scenario:
        import infra.paths
        from infra.release import canary_run
        from tests.infra.canary.stubs import start_app, stop_app
        from tests.infra.release.stand_in import ENV, StandIn

        project = self.folder
        (project / "stacks").mkdir(parents=True)
        shutil.copy(ROOT / "Pulumi.yaml", project / "Pulumi.yaml")
        shutil.copy(ROOT / "stacks/Pulumi.dev.yaml", project / "stacks/Pulumi.dev.yaml")
        self._saved_paths = (infra.paths.PROJECT_FILE, canary_run.CLOCK)
        infra.paths.PROJECT_FILE = project / "Pulumi.yaml"
        canary_run.CLOCK = self.clock

        self.kube = KubeApiStub()
        self._closers.append(self.kube.close)
        self.monitoring = MonitoringStub()
        self._closers.append(self.monitoring.close)
        green = FAILING if self.failing else HEALTHY
        monitoring_data(self.monitoring, self.APP, self.PORT, HEALTHY, green)
        self.apps = {c: start_app(self.APP, c) for c in ("blue", "green")}
        for a in self.apps.values():
            self._closers.append(functools.partial(stop_app, a))
        self.world = World(
            project,
            self.STACK,
            self.APP,
            self.kube,
            lag_reads=self.lag_reads,
            gateway_lag=self.gateway_lag,
            never_current=self.never_current,
        )
        self.gateway = SyncedGateway(
            self.world,
            {f"{self.APP}-{c}": a.url for c, a in self.apps.items()},
            {f"{self.APP}-blue": 100, f"{self.APP}-green": 0},
        )
        self._closers.append(self.gateway.close)

        self.stand_in = StandIn(project)
        self.stand_in.path.write_text(
            f'#!/bin/sh\nexec {sys.executable} -m tests.infra.release.stand_in "$@"\n'
        )
        self.stand_in.path.chmod(0o755)
        env = {
            "PULUMI": str(self.stand_in.path),
            ENV: str(project),
            canary_run.MONITORING_ENDPOINT_ENV: f"127.0.0.1:{self.monitoring.port}",
            "GITHUB_STEP_SUMMARY": str(project / "step-summary.md"),
        }
        for k, v in env.items():
            self._saved[k] = os.environ.get(k)
            os.environ[k] = v
        self.stand_in.queue("up", "ok", url=self.gateway.url, kubeconfig=self.kube.kubeconfig())
        self.stand_in.queue("output", "state")
        self.stand_in.queue("export", "state")
        # The first deploy: both colors, the route at blue 100 / green 0.
        done = subprocess.run(
            [str(self.stand_in.path), "up", "--stack", self.STACK, "--yes"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        self.world.sync()
        return self

    def __exit__(self, *exc: object) -> None:
        import infra.paths
        from infra.release import canary_run

        for close in reversed(self._closers):
            close()
        for k, v in self._saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
        infra.paths.PROJECT_FILE, canary_run.CLOCK = self._saved_paths

    def tool(self, argv: Sequence[str], out: Callable[[str], None]) -> int:
        """``python -m infra.release ARGV`` as a user runs it, in this process (the stand-in
        ``$PULUMI`` runs as its own process); stderr's lines go to ``out`` too."""
        from infra.release.__main__ import main

        err = io.StringIO()
        with contextlib.redirect_stderr(err):
            try:
                code = main(list(argv), out)
            except SystemExit as exit_:
                code = int(exit_.code or 0)
        for line in err.getvalue().splitlines():
            out(line)
        return code

    def stack_text(self) -> str:
        return (self.folder / "stacks/Pulumi.dev.yaml").read_text()

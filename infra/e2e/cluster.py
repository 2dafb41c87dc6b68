"""What the cluster says, read with kubectl (``$KUBECTL``, default ``kubectl`` on PATH, with the
current kubeconfig context unless ``--context`` names one): the color the live Service selects,
a color's pod template (when it changes, the color's pods are rolled), and whether a color's
smoke Job failed.

Objects are found by the labels the program puts on them (``app``, ``color``; smoke Jobs also
``role: smoke`` and ``target-color``), the live Service by name.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

ENV = "KUBECTL"
DEFAULT = "kubectl"


class ClusterError(RuntimeError):
    """kubectl could not tell; the message says what it answered."""


@dataclass(frozen=True)
class Kubectl:
    """How to run kubectl."""

    executable: str
    context: str | None = None
    namespace: str | None = None
    timeout_s: float = 60.0

    def get(self, *what: str) -> dict[str, Any]:
        """``kubectl get WHAT -o json`` as data."""
        argv = [self.executable]
        if self.context:
            argv += ["--context", self.context]
        if self.namespace:
            argv += ["--namespace", self.namespace]
        argv += ["get", *what, "-o", "json"]
        shown = f"kubectl get {' '.join(what)}"
        try:
            done = subprocess.run(
                argv, capture_output=True, text=True, timeout=self.timeout_s, check=False
            )
        except subprocess.TimeoutExpired:
            raise ClusterError(f"{shown} did not answer within {self.timeout_s:g} s") from None
        except OSError as err:
            raise ClusterError(f"cannot run {self.executable}: {err.strerror or err}") from None
        if done.returncode != 0:
            last = (done.stderr.strip().splitlines() or ["(no message)"])[-1]
            raise ClusterError(f"{shown} failed: {last}")
        try:
            data = json.loads(done.stdout)
        except ValueError:
            raise ClusterError(f"{shown} did not print JSON") from None
        if not isinstance(data, dict):
            raise ClusterError(f"{shown} did not print a JSON object")
        return data

    def served(self, service: str) -> str:
        """The color the live Service ``service`` selects."""
        spec = self.get("service", service).get("spec")
        selector = spec.get("selector") if isinstance(spec, dict) else None
        color = selector.get("color") if isinstance(selector, dict) else None
        if color not in ("blue", "green"):
            raise ClusterError(
                f"Service {service} selects no color (selector {selector!r}): is it the app's "
                "live Service? name it with --service"
            )
        return str(color)

    def pod_template(self, app: str, color: str) -> str:
        """The pod template of the app's Deployment of ``color``, as canonical JSON: it changes
        exactly when the Deployment rolls its pods (a scale does not change it)."""
        items = self._items("deployments", f"app={app},color={color}")
        if len(items) != 1:
            raise ClusterError(
                f"{len(items)} Deployments carry the labels app={app},color={color}; expected one"
            )
        template = (items[0].get("spec") or {}).get("template")
        if not isinstance(template, dict):
            raise ClusterError(f"the {color} Deployment of {app} has no pod template")
        return json.dumps(template, sort_keys=True)

    def failed_smoke_jobs(self, app: str, color: str) -> set[str]:
        """The names of the smoke Jobs of the app's ``color`` that have failed."""
        jobs = self._items("jobs", f"app={app},role=smoke,target-color={color}")
        return {str((job.get("metadata") or {}).get("name")) for job in jobs if _failed(job)}

    def _items(self, kind: str, labels: str) -> list[Mapping[str, Any]]:
        items = self.get(kind, "--selector", labels).get("items")
        if not isinstance(items, list):
            raise ClusterError(f"kubectl get {kind} printed no item list")
        return [i for i in items if isinstance(i, dict)]


def _failed(job: Mapping[str, Any]) -> bool:
    status = job.get("status") or {}
    if isinstance(status.get("failed"), int) and status["failed"] > 0:
        return True
    conditions = status.get("conditions") or []
    return any(
        isinstance(c, dict) and c.get("type") == "Failed" and c.get("status") == "True"
        for c in conditions
    )


def find_kubectl(env: Mapping[str, str] | None = None) -> str | None:
    """kubectl's path: ``$KUBECTL`` (a path or a command name), else ``kubectl`` on PATH."""
    environ = os.environ if env is None else env
    return shutil.which(environ.get(ENV) or DEFAULT, path=environ.get("PATH"))

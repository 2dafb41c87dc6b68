"""Pulumi mocks that run the real program offline and record what it registers.

Used by the offline render (``python -m infra.render``) and by the tests. The mocks stand in for
the engine and providers only: they return the outputs the cloud would compute (service account
emails, image digests, load balancer IPs, Kubernetes auto-names) deterministically, so two runs
of the same config register exactly the same thing and references between resources resolve.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

import pulumi
from pulumi.runtime import rpc
from pulumi.runtime.mocks import MockCallArgs, MockMonitor, MockResourceArgs, Mocks

#: The marker the Pulumi wire format puts on a secret value.
SECRET_SIG = rpc._special_sig_key
SECRET_VALUE = rpc._special_secret_sig
REDACTED = "[secret]"
#: Addresses the mocks hand out (TEST-NET-3, reserved for documentation).
_TEST_NET = "203.0.113"


def _digest(*parts: object) -> str:
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()


def is_secret(value: object) -> bool:
    """True for a secret as it travels on the wire (a dict tagged with Pulumi's secret sig)."""
    return isinstance(value, dict) and value.get(SECRET_SIG) == SECRET_VALUE


def redact(value: Any) -> Any:
    """``value`` with every secret replaced by ``"[secret]"`` (and whole floats as ints)."""
    if is_secret(value):
        return REDACTED
    if isinstance(value, dict):
        return {k: redact(v) for k, v in value.items()}
    if isinstance(value, list):
        return [redact(v) for v in value]
    return _number(value)


def _number(value: Any) -> Any:
    """The wire format carries every number as a float; Kubernetes wants integers."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def redact_leaves(value: Any, inside: bool = False) -> Any:
    """Like :func:`redact`, but keeps the shape of a secret (its keys) and redacts its leaves,
    so a redacted Secret manifest still lists which keys it holds."""
    if is_secret(value):
        return redact_leaves(value.get("value"), inside=True)
    if isinstance(value, dict):
        return {k: redact_leaves(v, inside) for k, v in value.items()}
    if isinstance(value, list):
        return [redact_leaves(v, inside) for v in value]
    return REDACTED if inside and value is not None else _number(value)


def unwrap(value: Any) -> Any:
    """``value`` with secret markers removed (plaintext). Only for assertions in tests."""
    if is_secret(value):
        return unwrap(value.get("value"))
    if isinstance(value, dict):
        return {k: unwrap(v) for k, v in value.items()}
    if isinstance(value, list):
        return [unwrap(v) for v in value]
    return value


@dataclass
class Registered:
    """One resource as the program registered it."""

    urn: str
    type: str
    name: str
    parent: str | None
    provider: str | None
    dependencies: list[str]
    custom: bool
    inputs: dict[str, Any]
    outputs: dict[str, Any] = field(default_factory=dict)


class CloudMocks(Mocks):
    """Computes the outputs GCP, Docker and Kubernetes would return."""

    def __init__(self, project: str = "mock-project") -> None:
        self.project = project

    def new_resource(self, args: MockResourceArgs) -> tuple[str | None, dict[str, Any]]:
        state = dict(args.inputs)
        typ, name = args.typ, args.name
        if typ.startswith("kubernetes:") and not typ.startswith("kubernetes:helm"):
            state = self._kubernetes(typ, name, state)
        elif typ == "docker:index/image:Image":
            image_name = str(state.get("imageName", name))
            repo = (
                image_name.rsplit(":", 1)[0]
                if "/" in image_name or ":" in image_name
                else image_name
            )
            state["repoDigest"] = f"{repo}@sha256:{_digest(image_name, state.get('build'))}"
        elif typ == "gcp:serviceaccount/account:Account":
            project = state.get("project", self.project)
            state["email"] = f"{state['accountId']}@{project}.iam.gserviceaccount.com"
            state["name"] = f"projects/{project}/serviceAccounts/{state['email']}"
        elif typ == "gcp:container/cluster:Cluster":
            state["endpoint"] = f"{_TEST_NET}.{int(_digest(name)[:4], 16) % 200 + 10}"
            ca = base64.b64encode(f"mock CA of {state.get('name', name)}".encode()).decode()
            state["masterAuth"] = {**state.get("masterAuth", {}), "clusterCaCertificate": ca}
        elif typ == "gcp:artifactregistry/repository:Repository":
            state["name"] = state.get("repositoryId", name)
        return f"{name}-id", state

    def _kubernetes(self, typ: str, name: str, state: dict[str, Any]) -> dict[str, Any]:
        if typ.startswith("pulumi:providers:"):
            return state
        metadata = dict(state.get("metadata") or {})
        if not metadata.get("name"):
            # The provider auto-names as <logical name>-<random>; a hash of the (redacted)
            # inputs keeps renders reproducible and, like the real provider, changes the name
            # when a ConfigMap's data changes.
            metadata["name"] = f"{name}-{_digest(name, redact(state))[:8]}"
        metadata.setdefault("namespace", "default")
        state["metadata"] = metadata
        if (
            typ == "kubernetes:core/v1:Service"
            and (state.get("spec") or {}).get("type") == "LoadBalancer"
        ):
            octet = int(_digest(name)[:4], 16) % 200 + 10
            state["status"] = {"loadBalancer": {"ingress": [{"ip": f"{_TEST_NET}.{octet}"}]}}
        return state

    def call(self, args: MockCallArgs) -> tuple[dict[str, Any], list[tuple[str, str]]]:
        if args.token == "gcp:organizations/getClientConfig:getClientConfig":  # noqa: S105
            return {
                "accessToken": "mock-access-token",
                "project": self.project,
                "id": "mock",
                "region": "",
                "zone": "",
            }, []
        return {}, [("token", f"the mocks do not implement {args.token}")]


class RecordingMonitor(MockMonitor):
    """A mock monitor that keeps every registration: parent, provider and dependencies too,
    which :class:`MockResourceArgs` does not carry."""

    def __init__(self, mocks: Mocks) -> None:
        super().__init__(mocks)
        self.registered: list[Registered] = []
        self.stack_outputs: dict[str, Any] = {}

    def RegisterResource(self, request: Any) -> Any:
        response = super().RegisterResource(request)  # type: ignore[no-untyped-call]
        if request.type == "pulumi:pulumi:Stack":
            return response
        inputs = rpc.deserialize_properties(request.object)
        outputs = self.resources[response.urn].state if response.urn in self.resources else {}
        self.registered.append(
            Registered(
                urn=response.urn,
                type=request.type,
                name=request.name,
                parent=request.parent or None,
                provider=request.provider or None,
                dependencies=list(request.dependencies),
                custom=bool(request.custom),
                inputs=dict(inputs),
                outputs=dict(outputs),
            )
        )
        return response


_loop: asyncio.AbstractEventLoop | None = None


def install(
    stack: str,
    config: dict[str, str],
    secret_keys: list[str],
    *,
    preview: bool,
    project: str = "gke-bluegreen",
    gcp_project: str = "mock-project",
) -> RecordingMonitor:
    """Points the Pulumi runtime at fresh mocks with this stack's config; returns the monitor.

    One event loop for the session (Python 3.12+ warns when ``set_mocks`` has to make one).
    """
    global _loop  # noqa: PLW0603 - one loop per process, made on first use
    if _loop is None:
        _loop = asyncio.new_event_loop()
    asyncio.set_event_loop(_loop)
    monitor = RecordingMonitor(CloudMocks(gcp_project))
    # A new root Stack per run: set_mocks keeps an existing one, which would parent this run's
    # resources to the previous stack's URN.
    pulumi.runtime.settings.ROOT.set(None)
    pulumi.runtime.set_mocks(
        monitor.mocks, project=project, stack=stack, preview=preview, monitor=monitor
    )
    pulumi.runtime.set_all_config(config, secret_keys)
    return monitor

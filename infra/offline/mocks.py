"""Pulumi mocks that stand in for the engine and the providers, and record what a program registers.

The mocks return what the cloud would compute (service account emails, image digests, load
balancer IPs, Kubernetes auto-names, the ACL grant's counts) deterministically, so two runs of the
same config register exactly the same thing and references between resources resolve.

The few Pulumi SDK internals the harness needs live in the ``SDK internals`` section below and
nowhere else; tests/infra/offline/test_mocks.py fails, naming the SDK version, if one changes.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import pulumi

# --------------------------------------------------------------------------- SDK internals
# No public API gives these. Each is checked by tests/infra/offline/test_mocks.py.
from pulumi.runtime import resource, rpc
from pulumi.runtime.mocks import MockCallArgs, MockMonitor, MockResourceArgs, Mocks
from pulumi.runtime.proto import source_pb2

from infra.settings import SECRET_SHOWN

#: The marker the Pulumi wire format puts on a secret value (``rpc._special_sig_key``).
SECRET_SIG: str = rpc._special_sig_key
#: ... and its value for a secret (``rpc._special_secret_sig``).
SECRET_VALUE: str = rpc._special_secret_sig


def deserialize(struct: Any) -> dict[str, Any]:
    """A registration's inputs as Python values (``rpc.deserialize_properties``)."""
    return dict(rpc.deserialize_properties(struct))


def reset_root_stack() -> None:
    """Forgets the root Stack resource (``settings.ROOT``): ``set_mocks`` keeps an existing one,
    which would parent a new run's resources to the previous run's stack URN."""
    pulumi.runtime.settings.ROOT.set(None)


@contextmanager
def without_stack_traces() -> Iterator[None]:
    """Registrations without the stack trace the SDK takes for each (``resource._get_stack_trace``:
    every frame on the stack, its file turned into a URI), which the engine shows as where a
    resource was declared. The mocks never read it, and it was a tenth of a render from the
    command line, a fifth inside pytest's deeper stack."""
    take = resource._get_stack_trace
    resource._get_stack_trace = source_pb2.StackTrace
    try:
        yield
    finally:
        resource._get_stack_trace = take


def stack_exports() -> dict[str, Any]:
    """The values the program passed to ``pulumi.export``. Under mocks the root stack never
    registers its outputs, so they are read from the root resource (``Stack.outputs``)."""
    root = pulumi.runtime.settings.get_root_resource()
    return dict(getattr(root, "outputs", {}) or {})


# --------------------------------------------------------------------------- wire helpers

#: Addresses the mocks hand out (TEST-NET-3, reserved for documentation).
TEST_NET = "203.0.113"
#: The dynamic resource that grants object ACLs (infra/gcs_acl/resource.py).
ACL_GRANT = "pulumi-python:dynamic/gcs_acl:ObjectAclGrant"


def _digest(*parts: object) -> str:
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()


def is_secret(value: object) -> bool:
    """True for a secret as it travels on the wire (a dict tagged with Pulumi's secret sig)."""
    return isinstance(value, dict) and value.get(SECRET_SIG) == SECRET_VALUE


def secret(value: object) -> dict[str, Any]:
    """``value`` wrapped as a secret, as on the wire."""
    return {SECRET_SIG: SECRET_VALUE, "value": value}


def redact(value: Any) -> Any:
    """``value`` with every secret replaced by :data:`~infra.settings.SECRET_SHOWN` (and whole
    floats as ints)."""
    if is_secret(value):
        return SECRET_SHOWN
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
    return SECRET_SHOWN if inside and value is not None else _number(value)


def unwrap(value: Any) -> Any:
    """``value`` with secret markers removed (plaintext). Only for assertions in tests."""
    if is_secret(value):
        return unwrap(value.get("value"))
    if isinstance(value, dict):
        return {k: unwrap(v) for k, v in value.items()}
    if isinstance(value, list):
        return [unwrap(v) for v in value]
    return value


# --------------------------------------------------------------------------- the mocks

ROOT_STACK_TYPE = "pulumi:pulumi:Stack"


def engine_urn(stack: str, project: str, parent: str, type_: str, name: str) -> str:
    """``urn:pulumi:<stack>::<project>::<qualified type>::<name>``, the qualified type being the
    parent's qualified type, ``$``, the resource's type; a resource without a parent or parented
    to the root stack is qualified by its own type alone (pulumi/pulumi v3.274.1
    pkg/resource/deploy/deployment.go ``generateURN``)."""
    qualified = type_
    if parent:
        parent_type = parent.split("::")[2]
        if parent_type != ROOT_STACK_TYPE:
            qualified = f"{parent_type}${type_}"
    return f"urn:pulumi:{stack}::{project}::{qualified}::{name}"


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
    protect: bool = False
    retain_on_delete: bool = False


@dataclass
class Invoked:
    """One provider function the program called (``gcp.organizations.get_client_config``...)."""

    token: str
    provider: str | None
    """The explicit provider's reference (``urn::id``), or None for the package's default one."""


class CloudMocks(Mocks):
    """Computes the outputs GCP, Docker and Kubernetes would return.

    ``deployed`` maps an image name (``repo:<content tag>``) to the digest a registry gave that
    build when it was deployed (``repo@sha256:…``): an image built from the same inputs gets that
    digest, as an unchanged build keeps its digest under ``pulumi up``; any other build gets a
    digest made up from its inputs, so a changed build always gets a new one.
    """

    def __init__(
        self, project: str = "mock-project", deployed: Mapping[str, str] | None = None
    ) -> None:
        self.project = project
        self.deployed = dict(deployed or {})

    def new_resource(self, args: MockResourceArgs) -> tuple[str | None, dict[str, Any]]:
        state = dict(args.inputs)
        typ, name = args.typ, args.name
        if typ.startswith("kubernetes:") and not typ.startswith("kubernetes:helm"):
            state = self._kubernetes(typ, name, state)
        elif typ == "docker:index/image:Image":
            image_name = str(state.get("imageName", name))
            repo = (
                image_name.rsplit(":", 1)[0] if ":" in image_name.rsplit("/", 1)[-1] else image_name
            )
            made_up = f"{repo}@sha256:{_digest(image_name, state.get('build'))}"
            state["repoDigest"] = self.deployed.get(image_name, made_up)
        elif typ == "gcp:serviceaccount/account:Account":
            project = state.get("project", self.project)
            state["email"] = f"{state['accountId']}@{project}.iam.gserviceaccount.com"
            state["name"] = f"projects/{project}/serviceAccounts/{state['email']}"
        elif typ == "gcp:container/cluster:Cluster":
            state["endpoint"] = f"{TEST_NET}.{int(_digest(name)[:4], 16) % 200 + 10}"
            ca = base64.b64encode(f"mock CA of {state.get('name', name)}".encode()).decode()
            state["masterAuth"] = {**state.get("masterAuth", {}), "clusterCaCertificate": ca}
        elif typ in ("gcp:compute/globalAddress:GlobalAddress", "gcp:compute/address:Address"):
            # A reserved address: external ones from the documentation range, internal ones from
            # the region's default subnet.
            octet = int(_digest(name)[:4], 16) % 200 + 10
            internal = state.get("addressType") == "INTERNAL"
            state["address"] = f"10.146.0.{octet}" if internal else f"{TEST_NET}.{octet}"
        elif typ == "gcp:artifactregistry/repository:Repository":
            state["name"] = state.get("repositoryId", name)
        elif typ == "gcp:storage/bucket:Bucket":
            state["name"] = state.get("name", name)
        elif typ == ACL_GRANT:
            state |= {
                "objects_scanned": 7,
                "objects_granted": 7,
                "objects_changed": 7,
                "objects_missing": 0,
            }
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
        if typ == "kubernetes:core/v1:Service":
            # The API server creates every Service with an empty load balancer status; the
            # provider's Service await waits for an ingress address on a LoadBalancer one.
            balancer: dict[str, Any] = {}
            if (state.get("spec") or {}).get("type") == "LoadBalancer" and not _skips_await(
                metadata
            ):
                octet = int(_digest(name)[:4], 16) % 200 + 10
                balancer = {"ingress": [{"ip": f"{TEST_NET}.{octet}"}]}
            state["status"] = {"loadBalancer": balancer}
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


def _skips_await(metadata: Mapping[str, Any]) -> bool:
    """``pulumi.com/skipAwait: "true"``: the provider returns the object as the API server
    created it, before any controller wrote its status, so a LoadBalancer Service has no address
    yet (pulumi/pulumi-kubernetes 4.25.0 provider/pkg/metadata/overrides.go ``ReadyCondition``
    answers ``condition.NewImmediate``; provider/pkg/await/await.go ``Creation``)."""
    annotations = metadata.get("annotations") or {}
    return annotations.get("pulumi.com/skipAwait") == "true"  # exactly: IsAnnotationTrue


class RecordingMonitor(MockMonitor):
    """A mock monitor that keeps every registration: parent, provider, dependencies and resource
    options too, which :class:`MockResourceArgs` does not carry; and every invoke with the
    provider it names."""

    def __init__(self, mocks: Mocks) -> None:
        super().__init__(mocks)
        self.registered: list[Registered] = []
        self.invoked: list[Invoked] = []

    def make_urn(self, parent: str, type_: str, name: str) -> str:
        """The URN the engine gives the resource: its type qualified by the parent's whole
        qualified type (every ancestor but the root stack), as pulumi/pulumi
        pkg/resource/deploy/deployment.go ``generateURN`` and sdk/go/common/resource/urn/urn.go
        ``New`` build it (v3.274.1, the CLI tools/go.mod pins). The SDK's own mock monitor keeps
        only the parent's last type and qualifies top-level resources with the root stack's type,
        so a resource under two components would get a URN the engine never gives."""
        return engine_urn(pulumi.get_stack(), pulumi.get_project(), parent, type_, name)

    def Invoke(self, request: Any) -> Any:
        self.invoked.append(Invoked(token=request.tok, provider=request.provider or None))
        return super().Invoke(request)  # type: ignore[no-untyped-call]

    def RegisterResource(self, request: Any) -> Any:
        response = super().RegisterResource(request)  # type: ignore[no-untyped-call]
        if request.type == "pulumi:pulumi:Stack":
            return response
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
                inputs=deserialize(request.object),
                outputs=dict(outputs),
                protect=bool(request.protect),
                retain_on_delete=bool(request.retainOnDelete),
            )
        )
        return response


_loop: asyncio.AbstractEventLoop | None = None


def install(
    stack: str,
    *,
    preview: bool,
    project: str,
    gcp_project: str = "mock-project",
    deployed_images: Mapping[str, str] | None = None,
) -> RecordingMonitor:
    """Points the Pulumi runtime at fresh mocks; returns the monitor that records registrations.
    ``deployed_images``: the digests deployed builds have (:class:`CloudMocks`).

    One event loop for the session (Python 3.12+ warns when ``set_mocks`` has to make one). It
    lives as long as the process: the mock monitor gives each executor thread a loop of its own
    that it never closes, and closing ours would end those threads mid-session.
    """
    global _loop  # noqa: PLW0603 - one loop per process, made on first use
    if _loop is None:
        _loop = asyncio.new_event_loop()
    asyncio.set_event_loop(_loop)
    monitor = RecordingMonitor(CloudMocks(gcp_project, deployed_images))
    reset_root_stack()
    pulumi.runtime.set_mocks(
        monitor.mocks, project=project, stack=stack, preview=preview, monitor=monitor
    )
    return monitor

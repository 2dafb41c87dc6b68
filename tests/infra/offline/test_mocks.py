"""infra/offline/mocks.py: the few Pulumi SDK internals the harness relies on. If an SDK release
changes one, this fails and names the installed version, before anything else breaks obscurely."""

from __future__ import annotations

import importlib.metadata

import pulumi
import pytest
from google.protobuf import struct_pb2
from pulumi.runtime import resource, settings
from pulumi.runtime.mocks import MockMonitor, MockResourceArgs
from pulumi.runtime.proto import source_pb2

from infra.offline import mocks

SDK = importlib.metadata.version("pulumi")


def test_secret_wire_marker_is_what_the_sdk_uses() -> None:
    # The constants Pulumi's wire format documents for secrets (sdk/proto/.../provider.proto).
    assert mocks.SECRET_SIG == "4dabf18193072939515e22adb298388d", f"pulumi {SDK}"
    assert mocks.SECRET_VALUE == "1b47061264138c4ac30d75fd1eb44270", f"pulumi {SDK}"


def test_root_stack_can_be_reset() -> None:
    assert hasattr(settings, "ROOT") and hasattr(settings.ROOT, "set"), (
        f"pulumi {SDK}: settings.ROOT (the root Stack context variable) is gone"
    )


def test_stack_exports_are_read_from_the_root_stack() -> None:
    monitor = mocks.install("t", preview=False, project="p")

    @pulumi.runtime.test  # type: ignore[untyped-decorator]  # the SDK leaves it unannotated
    def program() -> None:
        pulumi.export("answer", 42)
        assert mocks.stack_exports() == {"answer": 42}, (
            f"pulumi {SDK}: exports are no longer kept on the root stack's .outputs"
        )

    program()
    assert monitor.registered == []


def test_deserialize_keeps_secrets_marked() -> None:
    struct = struct_pb2.Struct()
    struct.update({"a": 1.0, "b": mocks.secret("x")})
    assert mocks.deserialize(struct) == {"a": 1.0, "b": mocks.secret("x")}, f"pulumi {SDK}"
    assert mocks.is_secret(mocks.deserialize(struct)["b"])


def test_a_deployed_build_keeps_its_digest() -> None:
    """An image whose name (repo:content tag) a deploy built gets that deploy's digest; any other
    build gets one made up from its inputs."""
    deployed = "gcr.io/p/app@sha256:" + "d" * 64
    cloud = mocks.CloudMocks(deployed={"gcr.io/p/app:src-000000000001": deployed})

    def digest(name: str) -> str:
        args = MockResourceArgs(
            typ="docker:index/image:Image", name="app-image", inputs={"imageName": name}
        )
        _id, state = cloud.new_resource(args)
        return str(state["repoDigest"])

    assert digest("gcr.io/p/app:src-000000000001") == deployed
    made_up = digest("gcr.io/p/app:src-000000000002")
    assert made_up.startswith("gcr.io/p/app@sha256:") and made_up != deployed
    assert digest("gcr.io/p/app:src-000000000002") == made_up, "deterministic"


def test_registrations_can_skip_the_stack_trace() -> None:
    take = getattr(resource, "_get_stack_trace", None)
    assert callable(take), f"pulumi {SDK}: resource._get_stack_trace is gone"
    assert isinstance(take(), source_pb2.StackTrace), f"pulumi {SDK}"
    with mocks.without_stack_traces():
        assert resource._get_stack_trace() == source_pb2.StackTrace()
    assert resource._get_stack_trace is take, "restored after the block"


class _Outer(pulumi.ComponentResource):
    def __init__(self, name: str) -> None:
        super().__init__("t:index:Outer", name)
        inner = pulumi.ComponentResource(
            "t:index:Inner", f"{name}-inner", None, pulumi.ResourceOptions(parent=self)
        )
        pulumi.CustomResource(
            "t:index:Leaf", f"{name}-leaf", {}, pulumi.ResourceOptions(parent=inner)
        )


#: pulumi/pulumi v3.274.1 pkg/resource/deploy/deployment.go ``generateURN``: a top-level
#: resource's type stands alone (the root stack is left out) and a child's type follows its
#: parent's whole qualified type. tests/real/test_program.py checks the same on a real ``up``.
#: (The ``urn:pulumi:<stack>::<project>::`` prefix is left out: older SDKs' mocks answer
#: ``get_stack()`` with a placeholder.)
ENGINE_URNS = {
    "o": "t:index:Outer::o",
    "o-inner": "t:index:Outer$t:index:Inner::o-inner",
    "o-leaf": "t:index:Outer$t:index:Inner$t:index:Leaf::o-leaf",
}


def _urns(monitor: mocks.RecordingMonitor) -> dict[str, str]:
    @pulumi.runtime.test  # type: ignore[untyped-decorator]  # the SDK leaves it unannotated
    def program() -> None:
        _Outer("o")

    program()
    return {r.name: r.urn.split("::", 2)[2] for r in monitor.registered}


def test_urns_are_the_engines() -> None:
    assert _urns(mocks.install("s", preview=False, project="p")) == ENGINE_URNS, f"pulumi {SDK}"


def test_the_sdk_mock_monitors_urns_are_not(monkeypatch: pytest.MonkeyPatch) -> None:
    """The check above fails on the SDK's own builder, which keeps only the parent's last type
    and qualifies top-level types with the root stack's."""
    monkeypatch.setattr(mocks.RecordingMonitor, "make_urn", MockMonitor.make_urn)
    urns = _urns(mocks.install("s", preview=False, project="p"))
    assert urns != ENGINE_URNS
    assert urns["o"] == "pulumi:pulumi:Stack$t:index:Outer::o", urns
    assert urns["o-leaf"] == "t:index:Inner$t:index:Leaf::o-leaf", urns

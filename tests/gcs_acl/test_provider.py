"""infra/gcs_acl/provider.py: the dynamic provider as Pulumi runs it.

Three levels, each against the real emulator:
1. the provider unpickled from exactly what ``pulumi.dynamic.Resource`` stores in ``__provider``
   (``serialize_provider`` + ``dill.loads``), its check/create/diff/update/read/delete called;
2. the real dynamic-provider host, ``python -u -m pulumi.dynamic`` started the way
   ``pulumi-resource-pulumi-python`` does (cwd = project root), driven over gRPC;
3. (test_resource.py) the resource registered under ``pulumi.runtime.set_mocks``.
"""

from __future__ import annotations

import asyncio
import base64
import os
import pickletools
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import dill
import google.cloud.storage as storage
import grpc
import pytest
from pulumi.dynamic.dynamic import serialize_provider
from pulumi.runtime import rpc
from pulumi.runtime.proto import provider_pb2, provider_pb2_grpc

from infra.gcs_acl.errors import UniformAccessError
from infra.gcs_acl.provider import ObjectAclProvider
from tests.gcs_acl.conftest import Objects

ROOT = Path(__file__).resolve().parents[2]
URN = "urn:pulumi:test::gke-bluegreen::pulumi-python:dynamic/gcs_acl:ObjectAclGrant::public"

pytestmark = pytest.mark.emulator


def roundtrip() -> Any:
    """The provider as the host gets it: serialized by Pulumi's own code, then dill.loads."""
    serialized = serialize_provider(ObjectAclProvider())
    raw = base64.b64decode(serialized)
    # By reference: module + class name, no code, no state.
    assert b"infra.gcs_acl.provider" in raw and b"ObjectAclProvider" in raw and len(raw) < 120
    provider = dill.loads(raw)
    assert type(provider) is ObjectAclProvider
    return provider


def props(bucket: str, **over: Any) -> dict[str, Any]:
    base = {"bucket": bucket, "project": None, "entity": "allUsers", "role": "READER"}
    base["prefix"] = ""
    base.update(over)
    return base


def test_serialization_is_deterministic_and_by_reference() -> None:
    assert serialize_provider(ObjectAclProvider()) == serialize_provider(ObjectAclProvider())
    roundtrip()


STORED = "gASVMwAAAAAAAACMFmluZnJhLmdjc19hY2wucHJvdmlkZXKUjBFPYmplY3RBY2xQcm92aWRlcpSTlCmBlC4="
"""``__provider`` as a stack's state holds it (pickled at f577653): it must keep loading whatever
modules the provider imports."""


def _names(serialized: str) -> list[str]:
    """Every name a pickle refers to (module and class of each global it loads)."""
    raw = base64.b64decode(serialized)
    return [arg for _op, arg, _pos in pickletools.genops(raw) if isinstance(arg, str)]


def test_the_pickle_refers_to_the_provider_class_only() -> None:
    """Nothing the provider module imports is named in the state, so those modules may move;
    only ``infra.gcs_acl.provider.ObjectAclProvider`` must stay where it is."""
    current = serialize_provider(ObjectAclProvider())
    assert _names(current) == _names(STORED) == ["infra.gcs_acl.provider", "ObjectAclProvider"]


def test_a_provider_pickled_into_state_before_still_loads_and_works() -> None:
    provider = dill.loads(base64.b64decode(STORED))
    assert type(provider) is ObjectAclProvider
    checked = provider.check({}, props("gs://my-bucket", entity="AllUsers", role="r"))
    assert checked.failures == [] and checked.inputs["entity"] == "allUsers"
    refused = provider.check({}, props("my-bucket", role="WRITER"))
    assert [f.property for f in refused.failures] == ["role"]


def test_check_normalizes_and_names_the_bad_field() -> None:
    p = roundtrip()
    ok = p.check({}, props("gs://my-bucket", entity="AllUsers", role="r"))
    assert ok.failures == []
    assert (ok.inputs["bucket"], ok.inputs["entity"], ok.inputs["role"]) == (
        "my-bucket",
        "allUsers",
        "READER",
    )
    bad = p.check({}, props("my-bucket", entity="everyone", role="WRITER"))
    assert sorted(f.property for f in bad.failures) == ["entity", "role"]
    owner = p.check({}, props("my-bucket", role="OWNER"))
    assert [(f.property, "READER only" in f.reason) for f in owner.failures] == [("role", True)]
    unknown = p.check({}, props(rpc.UNKNOWN))
    assert unknown.failures == []


def test_lifecycle_create_diff_read_update_delete(bucket: str, objects: Objects) -> None:
    p = roundtrip()
    objects.seed(bucket, ["v1/a", "v1/b", "v1/c", "top"])
    v1 = props(bucket, prefix="v1/")

    created = p.create(v1)
    assert created.id == f"gs://{bucket}/v1/*#allUsers:READER"
    outs = created.outs
    assert (outs["objects_scanned"], outs["objects_granted"], outs["objects_changed"]) == (3, 3, 3)
    assert outs["objects_missing"] == 0
    assert objects.public(bucket) == {"v1/a", "v1/b", "v1/c"}

    # No input change, no drift: nothing to do.
    assert p.diff(created.id, outs, v1).changes is False
    # Drift: someone revokes one object, a new layer is pushed.
    objects.set_acl(bucket, "v1/b", [])
    objects.seed(bucket, ["v1/d"])
    assert p.diff(created.id, outs, v1).changes is True
    read = p.read(created.id, outs)
    assert read.id == created.id
    assert (read.outs["objects_scanned"], read.outs["objects_granted"]) == (4, 2)
    assert read.outs["objects_missing"] == 2

    # Same inputs again: update re-grants the drifted objects.
    updated = p.update(created.id, read.outs, v1)
    assert (updated.outs["objects_changed"], updated.outs["objects_granted"]) == (2, 4)
    assert p.diff(created.id, updated.outs, v1).changes is False

    # Wider prefix: grant the rest; nothing to revoke (the new spec covers the old).
    everything = props(bucket)
    assert p.diff(created.id, updated.outs, everything).changes is True
    widened = p.update(created.id, updated.outs, everything)
    assert widened.outs["objects_scanned"] == 5 and widened.outs["objects_changed"] == 1
    assert objects.public(bucket) == {"v1/a", "v1/b", "v1/c", "v1/d", "top"}

    # Another entity: grant it everywhere, revoke allUsers everywhere.
    authed = props(bucket, entity="allAuthenticatedUsers")
    switched = p.update(created.id, widened.outs, authed)
    assert switched.outs["entity"] == "allAuthenticatedUsers"
    assert objects.public(bucket) == set()
    assert {"entity": "allAuthenticatedUsers", "role": "READER"} in objects.acl(bucket, "top")

    # A new bucket replaces; an unknown input is a change.
    assert p.diff(created.id, switched.outs, props("other-bucket")).replaces == ["bucket"]
    for key in ("bucket", "entity", "role", "prefix", "project"):
        unknown = p.diff(created.id, switched.outs, {**switched.outs, key: rpc.UNKNOWN})
        assert (unknown.changes, unknown.replaces) == (True, None), key
    assert p.diff(created.id, switched.outs, {**switched.outs, "project": "p-2"}).changes is True

    p.delete(created.id, switched.outs)
    assert all(objects.acl(bucket, n) == [] for n in ["v1/a", "v1/b", "v1/c", "v1/d", "top"])


def test_narrower_prefix_revokes_what_is_no_longer_covered(bucket: str, objects: Objects) -> None:
    p = roundtrip()
    objects.seed(bucket, ["v1/a", "v2/a"])
    created = p.create(props(bucket))
    p.update(created.id, created.outs, props(bucket, prefix="v2/"))
    assert objects.public(bucket) == {"v2/a"}


def test_gone_bucket_reads_as_gone_and_deletes_cleanly() -> None:
    p = roundtrip()
    gone = props("deleted-bucket-x")
    assert p.read("x", gone).id == ""
    p.delete("x", gone)  # nothing to revoke: no error


def test_create_fails_whole_with_the_one_line_message(bucket: str, gcs: storage.Client) -> None:
    p = roundtrip()
    b = gcs.get_bucket(bucket)
    b.iam_configuration.uniform_bucket_level_access_enabled = True
    b.patch()
    with pytest.raises(UniformAccessError, match=r"grant failed: gs://.* uniform"):
        p.create(props(bucket))
    p.delete("x", props(bucket))  # ACLs disabled: nothing to revoke, no error


# ----------------------------------------------------------------------------- the real host


def _struct(values: dict[str, Any]) -> Any:
    loop = asyncio.new_event_loop()
    try:
        return loop.run_until_complete(rpc.serialize_properties(values, {}))
    finally:
        loop.close()


@pytest.fixture
def host(monkeypatch: pytest.MonkeyPatch) -> Iterator[provider_pb2_grpc.ResourceProviderStub]:
    """``python -u -m pulumi.dynamic`` from the project root, as the Pulumi engine starts it
    (the shim pulumi-resource-pulumi-python runs exactly that in the program directory)."""
    env = dict(os.environ)
    env.pop("PYTHONPATH", None)  # importable only because cwd is the project root, as in Pulumi
    proc = subprocess.Popen(
        [sys.executable, "-u", "-m", "pulumi.dynamic"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    port = int(proc.stdout.readline().strip())
    channel = grpc.insecure_channel(f"127.0.0.1:{port}")
    yield provider_pb2_grpc.ResourceProviderStub(channel)
    channel.close()
    proc.terminate()
    proc.wait(timeout=10)
    proc.stdout.close()
    assert proc.stderr is not None
    proc.stderr.close()


def test_real_dynamic_provider_host_over_grpc(
    host: provider_pb2_grpc.ResourceProviderStub, bucket: str, objects: Objects
) -> None:
    objects.seed(bucket, ["a", "b"])
    serialized = serialize_provider(ObjectAclProvider())
    news = {**props(bucket), "__provider": serialized}

    checked = host.Check(provider_pb2.CheckRequest(urn=URN, olds=_struct({}), news=_struct(news)))
    assert list(checked.failures) == []

    created = host.Create(provider_pb2.CreateRequest(urn=URN, properties=checked.inputs))
    outs = rpc.deserialize_properties(created.properties)
    assert created.id == f"gs://{bucket}/*#allUsers:READER"
    assert (outs["objects_scanned"], outs["objects_changed"]) == (2, 2)
    assert outs["__provider"] == serialized
    assert objects.public(bucket) == {"a", "b"}

    def diff() -> Any:
        request = provider_pb2.DiffRequest(
            id=created.id, urn=URN, olds=created.properties, news=_struct(news)
        )
        return host.Diff(request).changes

    assert diff() == provider_pb2.DiffResponse.DIFF_NONE
    objects.set_acl(bucket, "a", [])
    assert diff() == provider_pb2.DiffResponse.DIFF_SOME

    read = host.Read(
        provider_pb2.ReadRequest(id=created.id, urn=URN, properties=created.properties)
    )
    assert rpc.deserialize_properties(read.properties)["objects_missing"] == 1

    updated = host.Update(
        provider_pb2.UpdateRequest(id=created.id, urn=URN, olds=read.properties, news=_struct(news))
    )
    assert rpc.deserialize_properties(updated.properties)["objects_changed"] == 1
    assert objects.public(bucket) == {"a", "b"}

    host.Delete(provider_pb2.DeleteRequest(id=created.id, urn=URN, properties=updated.properties))
    assert objects.public(bucket) == set()

    # A failure reaches the engine as an error carrying the one-line message.
    missing = {**props("no-such-bucket-y"), "__provider": serialized}
    with pytest.raises(grpc.RpcError) as err:
        host.Create(provider_pb2.CreateRequest(urn=URN, properties=_struct(missing)))
    assert "grant failed: bucket gs://no-such-bucket-y does not exist" in err.value.details()

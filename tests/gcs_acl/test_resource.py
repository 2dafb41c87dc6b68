"""infra/gcs_acl/resource.py: ObjectAclGrant registers under pulumi.runtime.set_mocks, in an
update (preview=False) and in a preview (preview=True), wired the way the registry component
wires it (bucket from a pulumi-gcp Bucket, depends_on the bucket ACL resources)."""

from __future__ import annotations

import asyncio
import base64
import warnings
from collections.abc import Iterator
from typing import Any

import dill
import pulumi
import pytest

from infra.gcs_acl import engine
from infra.gcs_acl.provider import ObjectAclProvider
from infra.gcs_acl.resource import ObjectAclGrant, ObjectAclGrantArgs

with warnings.catch_warnings():
    # pulumi-gcp's storage module imports deprecated aliases of its own (a DeprecationWarning).
    warnings.simplefilter("ignore", DeprecationWarning)
    from pulumi_gcp import storage as gcp_storage

TYPE = "pulumi-python:dynamic/gcs_acl:ObjectAclGrant"


class Mocks(pulumi.runtime.Mocks):
    """Echo inputs; give the grant plausible computed outputs; record every registration."""

    def __init__(self) -> None:
        self.registered: list[pulumi.runtime.MockResourceArgs] = []

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        self.registered.append(args)
        state = dict(args.inputs)
        if args.typ == TYPE:
            state |= {
                "objects_scanned": 7,
                "objects_granted": 7,
                "objects_changed": 7,
                "objects_missing": 0,
            }
        if args.typ == "gcp:storage/bucket:Bucket":
            state["name"] = args.inputs.get("name", args.name)
        return f"{args.name}-id", state

    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict[str, Any], list[Any]]:
        return {}, []


_LOOP: list[asyncio.AbstractEventLoop] = []


@pytest.fixture
def event_loop() -> Iterator[asyncio.AbstractEventLoop]:
    """One event loop for the whole session, current while a test runs (Python 3.12+ no longer
    makes one implicitly). It lives as long as the process, like infra/mocks.py's: pulumi's mock
    monitor gives each executor thread a loop of its own that it never closes, and closing ours
    would end those threads mid-session and surface their loops as unraisable ResourceWarnings."""
    if not _LOOP:
        _LOOP.append(asyncio.new_event_loop())
    asyncio.set_event_loop(_LOOP[0])
    # A fresh root stack per program: set_mocks would reuse the previous test's.
    pulumi.runtime.settings.ROOT.set(None)
    yield _LOOP[0]
    asyncio.set_event_loop(None)


@pytest.mark.parametrize("preview", [False, True])
def test_registers_with_outputs_and_a_loadable_provider(event_loop, preview):
    mocks = Mocks()
    pulumi.runtime.set_mocks(mocks, preview=preview, project="gke-bluegreen", stack="test")

    @pulumi.runtime.test
    def program() -> pulumi.Output[Any]:
        bucket = gcp_storage.Bucket("registry", name="artifacts.p-1.appspot.com", location="US")
        defacl = gcp_storage.DefaultObjectAccessControl(
            "registry-defacl", bucket=bucket.name, entity="allUsers", role="READER"
        )
        grant = ObjectAclGrant(
            "registry-objects-public",
            ObjectAclGrantArgs(bucket=bucket.name, project="p-1", entity="AllUsers", role="R"),
            pulumi.ResourceOptions(depends_on=[defacl]),
        )

        def verify(values: list[Any]) -> None:
            scanned, granted, missing, bucket_name = values
            assert (scanned, granted, missing) == (7, 7, 0)
            assert bucket_name == "artifacts.p-1.appspot.com"
            (args,) = [r for r in mocks.registered if r.typ == TYPE]
            assert args.name == "registry-objects-public"
            inputs = args.inputs
            assert inputs["bucket"] == "artifacts.p-1.appspot.com"
            assert (inputs["entity"], inputs["role"], inputs["prefix"]) == ("AllUsers", "R", "")
            assert inputs["project"] == "p-1"
            provider = dill.loads(base64.b64decode(inputs["__provider"]))
            assert type(provider) is ObjectAclProvider

        return pulumi.Output.all(
            grant.objects_scanned, grant.objects_granted, grant.objects_missing, grant.bucket
        ).apply(verify)

    program()


def test_bad_plain_value_raises_before_registering(event_loop):
    mocks = Mocks()
    pulumi.runtime.set_mocks(mocks, preview=False)
    with pytest.raises(engine.InvalidSpecError, match="invalid role 'WRITER'"):
        ObjectAclGrant("bad", ObjectAclGrantArgs(bucket="my-bucket", role="WRITER"))
    with pytest.raises(engine.InvalidSpecError, match="allUsers cannot be an OWNER"):
        ObjectAclGrant("bad2", ObjectAclGrantArgs(bucket="my-bucket", role="OWNER"))
    assert mocks.registered == []


def test_args_defaults_pinned():
    args = ObjectAclGrantArgs(bucket="b-1")
    assert (args.project, args.entity, args.role, args.prefix) == (None, "allUsers", "READER", "")

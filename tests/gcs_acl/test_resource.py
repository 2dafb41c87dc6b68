"""infra/gcs_acl/resource.py: ObjectAclGrant registers under the offline harness (the same mocks as
every other test), in an update (preview=False) and in a preview (preview=True), wired the way the
registry component wires it (bucket from a pulumi-gcp Bucket, depends_on the bucket ACL resources).
"""

from __future__ import annotations

import base64
import warnings
from typing import Any

import dill
import pulumi
import pytest

from infra.gcs_acl.errors import InvalidSpecError
from infra.gcs_acl.provider import ObjectAclProvider
from infra.gcs_acl.resource import ObjectAclGrant, ObjectAclGrantArgs
from infra.offline import mocks, program
from infra.offline.stackfile import StackConfig

with warnings.catch_warnings():
    # pulumi-gcp's storage module imports deprecated aliases of its own (a DeprecationWarning).
    warnings.simplefilter("ignore", DeprecationWarning)
    from pulumi_gcp import storage as gcp_storage

EMPTY = StackConfig(stack="test", values={}, secret_keys=frozenset())


@pytest.mark.parametrize("preview", [False, True])
def test_registers_with_outputs_and_a_loadable_provider(preview: bool) -> None:
    seen: dict[str, Any] = {}

    def body() -> None:
        bucket = gcp_storage.Bucket("registry", name="artifacts.p-1.appspot.com", location="US")
        defacl = gcp_storage.DefaultObjectAccessControl(
            "registry-defacl", bucket=bucket.name, entity="allUsers", role="READER"
        )
        grant = ObjectAclGrant(
            "registry-objects-public",
            ObjectAclGrantArgs(bucket=bucket.name, project="p-1", entity="AllUsers", role="R"),
            pulumi.ResourceOptions(depends_on=[defacl]),
        )
        pulumi.Output.all(
            grant.objects_scanned, grant.objects_granted, grant.objects_missing, grant.bucket
        ).apply(lambda values: seen.update(outputs=values))

    result = program.run(EMPTY, preview=preview, program=body)
    if not preview:
        assert seen["outputs"] == [7, 7, 0, "artifacts.p-1.appspot.com"]
    (grant,) = result.of_type(mocks.ACL_GRANT)
    (defacl,) = result.of_type("gcp:storage/defaultObjectAccessControl:DefaultObjectAccessControl")
    assert grant.name == "registry-objects-public"
    assert defacl.urn in grant.dependencies
    inputs = grant.inputs
    if not preview:
        assert inputs["bucket"] == "artifacts.p-1.appspot.com"
    assert (inputs["entity"], inputs["role"], inputs["prefix"]) == ("AllUsers", "R", "")
    assert inputs["project"] == "p-1"
    provider = dill.loads(base64.b64decode(inputs["__provider"]))
    assert type(provider) is ObjectAclProvider


def test_bad_plain_value_raises_before_registering() -> None:
    def body() -> None:
        with pytest.raises(InvalidSpecError, match="invalid role 'WRITER'"):
            ObjectAclGrant("bad", ObjectAclGrantArgs(bucket="my-bucket", role="WRITER"))
        with pytest.raises(InvalidSpecError, match="allUsers cannot be an OWNER"):
            ObjectAclGrant("bad2", ObjectAclGrantArgs(bucket="my-bucket", role="OWNER"))

    assert program.run(EMPTY, program=body).resources == []


def test_args_defaults_pinned() -> None:
    args = ObjectAclGrantArgs(bucket="b-1")
    assert (args.project, args.entity, args.role, args.prefix) == (None, "allUsers", "READER", "")

"""The registry and cluster rules (policy/rules/registry_cluster.py) on good and bad inputs."""

from __future__ import annotations

import json
from typing import Any

import pytest

from policy.rules import registry_cluster
from policy.rules.model import Context
from tests.policy.rules.cases import (
    AR_MEMBER,
    CLUSTER,
    DEV,
    DEV_PUBLIC,
    NODE_POOL,
    PROD,
    PROD_PUBLIC,
    run,
)

# --- registry-no-public-read -------------------------------------------------------------------

PUBLIC_GRANTS = [
    (AR_MEMBER, {"member": "allUsers", "role": "roles/artifactregistry.reader"}),
    (
        "gcp:artifactregistry/repositoryIamBinding:RepositoryIamBinding",
        {
            "members": ["serviceAccount:x@p.iam.gserviceaccount.com", "allUsers"],
            "role": "roles/artifactregistry.reader",
        },
    ),
    (
        "gcp:artifactregistry/repositoryIamPolicy:RepositoryIamPolicy",
        {
            "policyData": json.dumps(
                {
                    "bindings": [
                        {
                            "role": "roles/artifactregistry.reader",
                            "members": ["allAuthenticatedUsers"],
                        }
                    ]
                }
            )
        },
    ),
    (
        "gcp:storage/bucketIAMMember:BucketIAMMember",
        {
            "bucket": "artifacts.p.appspot.com",
            "member": "allUsers",
            "role": "roles/storage.objectViewer",
        },
    ),
    (
        "gcp:storage/bucketAccessControl:BucketAccessControl",
        {"bucket": "artifacts.p.appspot.com", "entity": "allUsers", "role": "READER"},
    ),
    (
        "gcp:storage/defaultObjectAccessControl:DefaultObjectAccessControl",
        {"bucket": "artifacts.p.appspot.com", "entity": "allUsers", "role": "READER"},
    ),
    ("gcp:storage/bucketACL:BucketACL", {"bucket": "b", "predefinedAcl": "publicRead"}),
    (
        "gcp:storage/defaultObjectACL:DefaultObjectACL",
        {"bucket": "b", "roleEntities": ["READER:allUsers"]},
    ),
]


@pytest.mark.parametrize(("rtype", "inputs"), PUBLIC_GRANTS, ids=lambda v: str(v)[:40])
def test_public_read_needs_opt_in_and_never_in_prod(rtype: str, inputs: dict[str, Any]) -> None:
    assert run("registry-no-public-read", rtype, inputs, DEV_PUBLIC) == []
    (msg,) = run("registry-no-public-read", rtype, inputs, DEV)
    assert "does not opt in" in msg and "registry.publicRead: true" in msg
    for ctx in (PROD, PROD_PUBLIC):
        (msg,) = run("registry-no-public-read", rtype, inputs, ctx)
        assert "never allowed on stack 'prod'" in msg


def test_private_grants_pass_everywhere() -> None:
    node_reader = {
        "member": "serviceAccount:nodes@p.iam.gserviceaccount.com",
        "role": "roles/artifactregistry.reader",
    }
    for ctx in (DEV, PROD):
        assert run("registry-no-public-read", AR_MEMBER, node_reader, ctx) == []


def test_public_write_is_refused_even_with_opt_in() -> None:
    (msg,) = run(
        "registry-no-public-read",
        AR_MEMBER,
        {"member": "allUsers", "role": "roles/artifactregistry.writer"},
        DEV_PUBLIC,
    )
    assert "only read roles" in msg


def test_a_whole_acl_reports_each_public_entry() -> None:
    # A public-read-write predefined ACL is more than read; an owner entry for anyone too.
    acl = {"predefinedAcl": "publicReadWrite", "roleEntities": ["OWNER:allAuthenticatedUsers"]}
    msgs = run("registry-no-public-read", "gcp:storage/bucketACL:BucketACL", acl, DEV_PUBLIC)
    assert [m.split(":")[0] for m in msgs] == [
        "grants allUsers publicReadWrite",
        "grants allAuthenticatedUsers OWNER",
    ]
    assert all("only read roles" in m for m in msgs)


def test_an_unreadable_iam_policy_grants_nothing() -> None:
    rtype = "gcp:artifactregistry/repositoryIamPolicy:RepositoryIamPolicy"
    assert run("registry-no-public-read", rtype, {"policyData": "{not json"}, PROD) == []


@pytest.mark.parametrize("value", [True, "true", "True"])
def test_prod_config_asking_for_public_read_fails(value: object) -> None:
    ctx = Context(stack="prod", config={"registry": {"publicRead": value}})
    (msg,) = registry_cluster.check_public_read_config(ctx)
    assert "registry.publicRead: true" in msg
    assert registry_cluster.check_public_read_config(Context(stack="dev", config=ctx.config)) == []
    assert registry_cluster.check_public_read_config(PROD) == []


# --- node-pool-dedicated-service-account --------------------------------------------------------


@pytest.mark.parametrize(
    "sa", [None, "", "default", "123456789012-compute@developer.gserviceaccount.com"]
)
def test_node_pool_with_default_service_account_fails(sa: str | None) -> None:
    node_config = {} if sa is None else {"serviceAccount": sa}
    (msg,) = run("node-pool-dedicated-service-account", NODE_POOL, {"nodeConfig": node_config})
    assert "Compute default" in msg
    (msg,) = run(
        "node-pool-dedicated-service-account",
        CLUSTER,
        {"nodeConfig": node_config, "removeDefaultNodePool": True},
    )
    assert msg.startswith("default node pool")


def test_node_pool_without_node_config_fails() -> None:
    (msg,) = run("node-pool-dedicated-service-account", NODE_POOL, {"cluster": "c"})
    assert "no nodeConfig.serviceAccount" in msg


def test_dedicated_service_account_passes() -> None:
    good = {"nodeConfig": {"serviceAccount": "imageview-nodes@p.iam.gserviceaccount.com"}}
    assert run("node-pool-dedicated-service-account", NODE_POOL, good) == []
    assert run("node-pool-dedicated-service-account", CLUSTER, good) == []
    # A cluster that declares no node config at all has no pool of its own to check.
    assert run("node-pool-dedicated-service-account", CLUSTER, {"name": "c"}) == []


def test_inline_node_pools_of_a_cluster_are_checked() -> None:
    (msg,) = run(
        "node-pool-dedicated-service-account",
        CLUSTER,
        {"nodePools": [{"name": "extra", "nodeConfig": {"serviceAccount": "default"}}]},
    )
    assert "node pool 'extra'" in msg

"""The prod safety rules (policy/rules/release_safety.py) on good and bad inputs."""

from __future__ import annotations

import pytest

from policy.rules import release_safety
from policy.rules.model import REPOSITORY, Context, Options
from tests.policy.rules.cases import (
    AR_MEMBER,
    CLUSTER,
    DEPLOYMENT,
    DEV,
    NODE_POOL,
    PROD,
    deployment,
    run,
)

# --- prod-deletion-protection -------------------------------------------------------------------


def test_prod_cluster_without_deletion_protection_fails() -> None:
    (msg,) = run("prod-deletion-protection", CLUSTER, {"deletionProtection": False}, PROD)
    assert "deletionProtection: false" in msg
    assert run("prod-deletion-protection", CLUSTER, {"deletionProtection": True}, PROD) == []
    assert run("prod-deletion-protection", CLUSTER, {}, PROD) == []  # provider default: true
    assert run("prod-deletion-protection", CLUSTER, {"deletionProtection": False}, DEV) == []


@pytest.mark.parametrize("value", [False, "false"])
def test_prod_config_turning_deletion_protection_off_fails(value: object) -> None:
    ctx = Context(stack="prod", config={"cluster": {"deletionProtection": value}})
    (msg,) = release_safety.check_prod_deletion_protection_config(ctx)
    assert "cluster.deletionProtection: false" in msg
    dev = Context(stack="dev", config=ctx.config)
    assert release_safety.check_prod_deletion_protection_config(dev) == []


# --- prod-stateful-kept ------------------------------------------------------------------------

KEPT = Options(protect=True, retain_on_delete=True)


@pytest.mark.parametrize(
    ("rtype", "options", "lacking"),
    [
        (CLUSTER, Options(protect=False, retain_on_delete=False), "lacks protect:"),
        (REPOSITORY, Options(protect=False, retain_on_delete=True), "lacks protect:"),
        (REPOSITORY, Options(protect=True, retain_on_delete=False), "lacks retainOnDelete:"),
        (REPOSITORY, Options(protect=False, retain_on_delete=False), "protect and retain"),
    ],
    ids=str,
)
def test_prod_cluster_and_repository_must_be_kept(
    rtype: str, options: Options, lacking: str
) -> None:
    (msg,) = run("prod-stateful-kept", rtype, {}, PROD, options)
    assert lacking in msg and "stack 'prod'" in msg
    assert run("prod-stateful-kept", rtype, {}, PROD, KEPT) == []
    # Labs may be torn down with one `pulumi destroy`.
    assert run("prod-stateful-kept", rtype, {}, DEV, options) == []


def test_a_protected_cluster_need_not_be_retained() -> None:
    # Everything on the cluster is declared by the program; a retained cluster runs on, billed.
    cluster = Options(protect=True, retain_on_delete=False)
    assert run("prod-stateful-kept", CLUSTER, {}, PROD, cluster) == []


def test_an_option_the_caller_cannot_see_is_not_judged() -> None:
    # A CrossGuard pack gets protect but never retainOnDelete (model.Options).
    pack_view = Options(protect=True)
    assert run("prod-stateful-kept", REPOSITORY, {}, PROD, pack_view) == []
    (msg,) = run("prod-stateful-kept", REPOSITORY, {}, PROD, Options(protect=False))
    assert "lacks protect:" in msg


def test_other_resources_need_no_protection() -> None:
    unprotected = Options(protect=False, retain_on_delete=False)
    for rtype in (NODE_POOL, DEPLOYMENT, AR_MEMBER):
        assert run("prod-stateful-kept", rtype, {}, PROD, unprotected) == [], rtype


# --- prod-replicas ------------------------------------------------------------------------------


def test_single_replica_of_the_live_color_in_prod_is_advised_against() -> None:
    (msg,) = run("prod-replicas", DEPLOYMENT, deployment(replicas=1), PROD)
    assert "1 replica" in msg
    assert run("prod-replicas", DEPLOYMENT, deployment(replicas=2), PROD) == []
    assert run("prod-replicas", DEPLOYMENT, deployment(replicas=1), DEV) == []
    # Blue is live by default; once green is live, the blue Deployment is the idle (warm) one.
    green_live = Context(stack="prod", config={"apps": {"imageview": {"activeColor": "green"}}})
    assert run("prod-replicas", DEPLOYMENT, deployment(replicas=1), green_live) == []

"""Rules that keep production safe across releases: the prod cluster keeps deletion protection,
prod's cluster and registry survive a `pulumi destroy`, and prod's live color has a spare pod."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .model import CLUSTER, PROD_STACK, REPOSITORY, Context, Options, dig

DEPLOYMENT = "kubernetes:apps/v1:Deployment"


# --- prod-deletion-protection ------------------------------------------------------------------


def check_prod_deletion_protection(
    resource_type: str, inputs: Mapping[str, Any], ctx: Context
) -> list[str]:
    """The prod cluster keeps deletion protection on."""
    # An unset deletionProtection is the provider's default, which is true.
    if resource_type == CLUSTER and ctx.is_prod and inputs.get("deletionProtection") is False:
        return [
            f"cluster has deletionProtection: false on stack '{PROD_STACK}'; "
            "it must stay true (allowed: true or unset)"
        ]
    return []


def check_prod_deletion_protection_config(ctx: Context) -> list[str]:
    """The prod stack file must not turn deletion protection off."""
    value = ctx.get("cluster.deletionProtection")
    if ctx.is_prod and (value is False or (isinstance(value, str) and value.lower() == "false")):
        return [f"stack '{PROD_STACK}' sets cluster.deletionProtection: false; it must stay true"]
    return []


# --- prod-stateful-kept ------------------------------------------------------------------------


def check_prod_kept(resource_type: str, options: Options, ctx: Context) -> list[str]:
    """On prod, the cluster and the registry repository are protected, and the repository (every
    release's images) is retained when it leaves the stack. An option the caller cannot see
    (``None``) is not judged."""
    if not ctx.is_prod or resource_type not in (CLUSTER, REPOSITORY):
        return []
    wanted = {"protect": options.protect}
    what = "cluster"
    if resource_type == REPOSITORY:
        wanted["retainOnDelete"] = options.retain_on_delete
        what = "registry repository (every release's images)"
    lacking = [name for name, value in wanted.items() if value is False]
    if not lacking:
        return []
    why = (
        "a `pulumi destroy` or a replacement would delete it"
        if "protect" in lacking
        else "once unprotected, a `pulumi destroy` would delete it and every image in it"
    )
    return [
        f"{what} on stack '{PROD_STACK}' lacks {' and '.join(lacking)}: {why} (allowed: "
        f"{' and '.join(wanted)} true, which the program sets while cluster.deletionProtection "
        "is true)"
    ]


# --- prod-replicas -----------------------------------------------------------------------------


def check_prod_replicas(resource_type: str, inputs: Mapping[str, Any], ctx: Context) -> list[str]:
    """In prod, the live color's Deployment has at least two replicas.

    The idle color is exempt: it is parked (0) or kept warm for a fast rollback (``idleReplicas``).
    """
    if resource_type != DEPLOYMENT or not ctx.is_prod:
        return []
    labels = dig(inputs, "metadata", "labels") or {}
    app, color = dig(labels, "app"), dig(labels, "color")
    live = ctx.get(f"apps.{app}.activeColor", "blue") if app else None
    if color is not None and live is not None and color != live:
        return []
    if dig(inputs, "spec", "replicas") == 1:
        name = dig(inputs, "metadata", "name") or "?"
        return [
            f"Deployment '{name}' has 1 replica on '{PROD_STACK}'; a node drain takes it down "
            "(use 2 or more)"
        ]
    return []

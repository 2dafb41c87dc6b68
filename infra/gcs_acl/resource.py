"""``ObjectAclGrant``: S1's ``gsutil acl ch -r -u AllUsers:R gs://BUCKET`` as a Pulumi resource.

pulumi-gcp manages the bucket ACL and the default object ACL; nothing in it grants an entity on
the objects that already exist. This dynamic resource does (:mod:`infra.gcs_acl.grant`,
:mod:`infra.gcs_acl.scan`): create grants on every object under ``prefix``, update follows a
change of entity/role/prefix (grant new, then revoke what the new spec no longer covers), delete
revokes, diff reports drift (objects that lost the grant or were uploaded without it) as a
change so ``pulumi up`` re-grants, and read (``pulumi refresh``) records the live counts. Create
it after the bucket ACL resources (``depends_on``), only for a legacy (ACL) bucket whose stack
opts into public read.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi.dynamic

from infra.gcs_acl.provider import OUTPUTS, ObjectAclProvider
from infra.gcs_acl.spec import normalize_bucket, normalize_entity, normalize_role, normalize_spec


@dataclass(frozen=True)
class ObjectAclGrantArgs:
    """Inputs of :class:`ObjectAclGrant`."""

    bucket: pulumi.Input[str]
    """Bucket name (``gs://`` optional), e.g. ``artifacts.PROJECT.appspot.com``."""
    project: pulumi.Input[str] | None = None
    """Project for the storage client (default: application default credentials' project)."""
    entity: pulumi.Input[str] = "allUsers"
    """ACL entity: allUsers, allAuthenticatedUsers, user-EMAIL, group-EMAIL, domain-DOMAIN,
    project-(owners|editors|viewers)-ID."""
    role: pulumi.Input[str] = "READER"
    """READER or OWNER (allUsers/allAuthenticatedUsers: READER only)."""
    prefix: pulumi.Input[str] = ""
    """Only objects whose name starts with this ("" = the whole bucket)."""


def _validate_plain(args: ObjectAclGrantArgs) -> None:
    """Reject bad plain values before anything is registered (Outputs are checked later)."""
    if isinstance(args.bucket, str):
        normalize_bucket(args.bucket)
    entity = normalize_entity(args.entity) if isinstance(args.entity, str) else None
    role = normalize_role(args.role) if isinstance(args.role, str) else None
    if entity is not None and role is not None and isinstance(args.bucket, str):
        normalize_spec(args.bucket, "", entity, role)


class ObjectAclGrant(pulumi.dynamic.Resource, module="gcs_acl", name="ObjectAclGrant"):
    """Grants ``entity:role`` on every existing object of a bucket (under a prefix)."""

    bucket: pulumi.Output[str]
    """The bucket, normalised (no ``gs://``)."""
    entity: pulumi.Output[str]
    """The entity in the API's spelling (``allUsers``)."""
    role: pulumi.Output[str]
    """READER or OWNER."""
    prefix: pulumi.Output[str]
    """The object name prefix covered."""
    objects_scanned: pulumi.Output[int]
    """Objects under the prefix at the last create/update (or refresh)."""
    objects_granted: pulumi.Output[int]
    """Of those, how many hold the grant (equal to ``objects_scanned`` unless drifted)."""
    objects_changed: pulumi.Output[int]
    """Objects whose ACL the last create/update changed."""
    objects_missing: pulumi.Output[int]
    """Objects lacking the grant: 0 after an apply; the drift seen by the last refresh."""

    def __init__(
        self,
        name: str,
        args: ObjectAclGrantArgs,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        _validate_plain(args)
        props: dict[str, object] = {
            "bucket": args.bucket,
            "project": args.project,
            "entity": args.entity,
            "role": args.role,
            "prefix": args.prefix,
            # Computed by the provider: None asks Pulumi to expose them as outputs.
            **dict.fromkeys(OUTPUTS),
        }
        super().__init__(ObjectAclProvider(), name, props, opts)

"""Recursive object ACL grant for a GCS bucket (S1's ``gsutil acl ch -r -u AllUsers:R``).

- :mod:`infra.gcs_acl.spec`: the spec, settings, results, errors and pure ACL rules (no I/O).
- :mod:`infra.gcs_acl.engine`: grant / revoke / scan / check with google-cloud-storage.
- :mod:`infra.gcs_acl.cli`: ``python -m infra.gcs_acl {grant,revoke,check}`` for operators.
- :mod:`infra.gcs_acl.provider` and :mod:`infra.gcs_acl.resource`: the same engine as a Pulumi
  dynamic resource, ``ObjectAclGrant``.
"""

"""Recursive object ACL grant for a GCS bucket (S1's ``gsutil acl ch -r -u AllUsers:R``).

No I/O:

- :mod:`infra.gcs_acl.errors`: the failures an operator can act on, one line each.
- :mod:`infra.gcs_acl.spec`: what to grant where (bucket, prefix, entity, role) and its checks.
- :mod:`infra.gcs_acl.acl`: the ACL rules (what a role means, the ACL to write back).
- :mod:`infra.gcs_acl.settings`: how a run talks to GCS, and the range of every number.
- :mod:`infra.gcs_acl.results`: what a run did or found, and its one-line summary.
- :mod:`infra.gcs_acl.limit`: the adaptive limit on requests in flight.

With google-cloud-storage:

- :mod:`infra.gcs_acl.client`: clients, credentials, retries, paging, error translation.
- :mod:`infra.gcs_acl.grant`: grant / revoke on every object (worker threads).
- :mod:`infra.gcs_acl.scan`: scan (drift) and check (is the bucket public as asked).

Its users:

- :mod:`infra.gcs_acl.cli`: ``python -m infra.gcs_acl {grant,revoke,check}`` for operators.
- :mod:`infra.gcs_acl.provider` and :mod:`infra.gcs_acl.resource`: the same runs as a Pulumi
  dynamic resource, ``ObjectAclGrant``.

It imports nothing of ``infra/`` but :mod:`infra.cli` (the tools' error line and Ctrl-C).
"""

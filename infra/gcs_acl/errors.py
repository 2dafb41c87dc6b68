"""The failures an operator can act on, each with a one-line message.

An error raised mid-run carries the progress made before it: the partial
:class:`~infra.gcs_acl.results.Summary` of a grant or revoke, or the partial
:class:`~infra.gcs_acl.results.Scan` of a check, so that the CLI and ``pulumi up`` can say what
was done.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # results imports the spec, which raises InvalidSpecError from here
    from infra.gcs_acl.results import Scan, Summary


class GcsAclError(Exception):
    """A failure an operator can act on; ``str()`` is one line. ``summary`` (grant/revoke) or
    ``scan`` (check/scan) is the progress made before it."""

    def __init__(
        self, message: str, summary: Summary | None = None, scan: Scan | None = None
    ) -> None:
        super().__init__(message)
        self.summary = summary
        self.scan = scan

    def partial(self) -> str | None:
        """The partial-progress line, or None when the run had not started."""
        if self.summary is not None:
            return self.summary.line()
        if self.scan is not None:
            return self.scan.line()
        return None


class InvalidSpecError(GcsAclError):
    """A bucket name, prefix, entity, role or setting that GCS would reject; nothing was sent."""

    def __init__(self, message: str, field: str = "") -> None:
        super().__init__(message)
        self.field = field
        """The input at fault (bucket, entity, role, ...)."""


class BucketNotFoundError(GcsAclError):
    """The bucket does not exist (or these credentials cannot see it); nothing changed."""


class AccessDeniedError(GcsAclError):
    """GCS answered 403 Forbidden."""


class UniformAccessError(GcsAclError):
    """Uniform bucket-level access is on: object ACLs are disabled, IAM is the way."""


class CredentialsError(GcsAclError):
    """No application default credentials were found."""


class TransportError(GcsAclError):
    """GCS (or the emulator) stayed unreachable or kept failing after all retries."""


class RequestError(GcsAclError):
    """GCS rejected a request for another reason (the API's message is included)."""


class InterruptedRunError(GcsAclError):
    """The operator interrupted the run (Ctrl-C); requests in flight were let finish."""

"""One object's change in a grant or revoke, and what became of it (:class:`Outcome`).

The change is conditional on the object's metageneration, so a concurrent change is re-read
instead of overwritten.
"""

from __future__ import annotations

import functools
from enum import Enum

import google.cloud.storage as storage
from google.api_core import exceptions as api_exceptions

from infra.gcs_acl.acl import needs_change, new_acl
from infra.gcs_acl.client import Gcs, Listed, StoppedError, translate
from infra.gcs_acl.results import FAILURES_KEPT, Summary
from infra.gcs_acl.spec import AclSpec, Action

_ATTEMPTS = 4
_KEPT_CHANGING = "object kept changing under us (412 four times)"


class Outcome(Enum):
    """What became of one object a worker took from the queue."""

    CHANGED = "changed"
    """Its ACL was written."""
    ALREADY = "already"
    """It was as asked when read afresh: nothing written."""
    VANISHED = "vanished"
    """It was deleted after it was listed: nothing to do."""
    UNDONE = "undone"
    """The run was stopping: not attempted, or stopped between retries."""
    KEPT_CHANGING = "kept changing"
    """A failure of its own: it changed under us (412) at every attempt."""


def tally(summary: Summary, name: str, outcome: Outcome) -> None:
    """Count ``outcome`` in ``summary``; a failure also keeps its name and reason (the first
    ``FAILURES_KEPT``)."""
    match outcome:
        case Outcome.CHANGED:
            summary.changed += 1
        case Outcome.ALREADY:
            summary.already += 1
        case Outcome.VANISHED:
            summary.vanished += 1
        case Outcome.UNDONE:
            summary.undone += 1
        case Outcome.KEPT_CHANGING:
            summary.failed += 1
            if len(summary.failures) < FAILURES_KEPT:
                summary.failures.append((name, _KEPT_CHANGING))


def change(gcs: Gcs, action: Action, spec: AclSpec, item: Listed) -> Outcome:
    """Patch one object's ACL; read it afresh when the listing omitted it or it changed under
    us (412). Raises :class:`StoppedError` when the run stops, and a one-line
    :class:`~infra.gcs_acl.errors.GcsAclError` for any other failure."""
    client = gcs.client()
    blob = client.bucket(spec.bucket).blob(item.name)
    acl, metageneration = item.acl, item.metageneration
    for _attempt in range(_ATTEMPTS):
        try:
            if acl is None:
                acl = gcs.reload(blob)
                metageneration = int(blob.metageneration or 0)
            if not needs_change(action, acl, spec):
                return Outcome.ALREADY
            _patch(gcs, client, blob, new_acl(action, acl, spec), metageneration)
            return Outcome.CHANGED
        except api_exceptions.NotFound:
            return Outcome.VANISHED
        except api_exceptions.PreconditionFailed:
            acl = None  # changed under us: re-read and decide again
        except StoppedError:
            raise
        except Exception as err:
            raise translate(err, spec, gcs, f"patching the ACL of {item.name!r}") from err
    return Outcome.KEPT_CHANGING


def _patch(
    gcs: Gcs,
    client: storage.Client,
    blob: storage.Blob,
    acl: list[dict[str, str]],
    metageneration: int,
) -> None:
    """Write ``acl`` if the object is still at ``metageneration``."""
    # Loaded from the listing, so save() needs no extra GET to rebuild its entities.
    blob.acl.loaded = True
    gcs.call(
        functools.partial(
            blob.acl.save,
            acl=acl,
            client=client,
            if_metageneration_match=metageneration,
            retry=None,
            timeout=gcs.timeout,
        )
    )
